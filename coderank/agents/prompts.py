"""The agents' system prompts. Each agent is one prompt over the same chat model."""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate

CONCISE_FIXER = "concise_fixer"
EXPLAINER = "explainer"
OPTIMIZER = "optimizer"
AGENTS = (CONCISE_FIXER, EXPLAINER, OPTIMIZER)

LABELS = {
    CONCISE_FIXER: "Concise Fixer",
    EXPLAINER: "Explainer",
    OPTIMIZER: "Optimizer",
}

SYSTEM_PROMPTS = {
    CONCISE_FIXER: (
        "You are a senior Python developer. Answer with the shortest correct Python solution "
        "in one ```python code block, followed by at most one sentence."
    ),
    EXPLAINER: (
        "You are a patient Python teacher. Give a correct, readable Python solution in one "
        "```python code block with comments, then explain briefly how it works."
    ),
    OPTIMIZER: (
        "You are a performance-minded Python engineer. Give the most efficient correct Python "
        "solution in one ```python code block, then state its time and space complexity."
    ),
}


def agent_prompt(agent: str) -> ChatPromptTemplate:
    """The chat prompt of ``agent``: its system prompt, then the problem as the human turn."""
    return ChatPromptTemplate.from_messages(
        [("system", SYSTEM_PROMPTS[agent]), ("human", "{problem}")]
    )
