"""The agents' system prompts. Each agent is one prompt over the same chat model."""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate
from langchain_core.prompts.chat import MessageLikeRepresentation

CONCISE_FIXER = "concise_fixer"
EXPLAINER = "explainer"
OPTIMIZER = "optimizer"
AGENTS = (CONCISE_FIXER, EXPLAINER, OPTIMIZER)
# The fourth agent writes tests from the problem alone; it never sees the answers.
TESTER = "tester"

LABELS = {
    CONCISE_FIXER: "Concise Fixer",
    EXPLAINER: "Explainer",
    OPTIMIZER: "Optimizer",
    TESTER: "Tester",
}

# Every agent's answer is run against the Tester's tests and the problem's examples: one wrong
# assert of its own would fail a correct function, and a renamed function fails every check.
_SOLUTION_ONLY = (
    " Name the function as the problem names it (else the plainest snake_case name for what it "
    "does), with the parameters it gives. The code block holds only the solution: no tests, "
    "asserts, example calls, prints or input(); close it right after the function."
)
SYSTEM_PROMPTS = {
    CONCISE_FIXER: (
        "You are a senior Python developer. Answer with the shortest correct Python solution "
        "in one ```python code block, followed by at most one sentence." + _SOLUTION_ONLY
    ),
    EXPLAINER: (
        "You are a patient Python teacher. Give a correct, readable Python solution in one "
        "```python code block with comments, then explain briefly how it works." + _SOLUTION_ONLY
    ),
    OPTIMIZER: (
        "You are a performance-minded Python engineer. Give the most efficient correct Python "
        "solution in one ```python code block, then state its time and space complexity."
        + _SOLUTION_ONLY
    ),
}
# Sampling temperature per role: the Tester's asserts and the shortest answer want the likeliest
# tokens; the Explainer's prose may vary more.
TEMPERATURES = {CONCISE_FIXER: 0.2, EXPLAINER: 0.5, OPTIMIZER: 0.3, TESTER: 0.2}


def agent_prompt(agent: str) -> ChatPromptTemplate:
    """The chat prompt of ``agent``: its system prompt, then the problem as the human turn."""
    return ChatPromptTemplate.from_messages(
        [("system", SYSTEM_PROMPTS[agent]), ("human", "{problem}")]
    )


TESTER_SYSTEM = (
    "You are a careful Python tester. From the problem alone, write 3 to 6 assert statements "
    "that any correct solution passes, calling the function the problem asks for (by the name "
    "the problem gives it, else the plainest snake_case name for what it does), in one "
    "```python code block: one assert per line, nothing else. Never write the function itself. "
    "Take the examples the problem gives first, then add only cases whose answer is certain."
)
# One worked example (a chat turn for hosted models; the completion prompt's example for a base
# model) shows the shape of the answer: assert lines only.
TESTER_EXAMPLE = (
    "Write a function largest(numbers) that returns the largest of a list of numbers.",
    "```python\nassert largest([1, 5, 3]) == 5\nassert largest([-2, -7]) == -2\n"
    "assert largest([4]) == 4\n```",
)


def tester_prompt() -> ChatPromptTemplate:
    """The Tester's chat prompt: its system prompt, one worked example, then the problem."""
    example_problem, example_answer = TESTER_EXAMPLE
    messages: list[MessageLikeRepresentation] = [
        ("system", TESTER_SYSTEM),
        ("human", example_problem.replace("{", "{{").replace("}", "}}")),
        ("ai", example_answer.replace("{", "{{").replace("}", "}}")),
        ("human", "{problem}"),
    ]
    return ChatPromptTemplate.from_messages(messages)
