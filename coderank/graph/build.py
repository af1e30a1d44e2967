"""The graph's shape: edges only."""

from __future__ import annotations

from typing import TypeAlias

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from coderank.agents.prompts import AGENTS
from coderank.graph import nodes
from coderank.graph.state import ComparisonState

# State, context, input and output: the graph takes and returns a ComparisonState, no context.
ComparisonGraph: TypeAlias = CompiledStateGraph[
    ComparisonState, None, ComparisonState, ComparisonState
]


def build_graph(
    services: nodes.GraphServices, checkpointer: BaseCheckpointSaver[str]
) -> ComparisonGraph:
    """Compile the comparison graph over ``checkpointer``.

    START -> ``begin`` (the comparison is recorded) fans out to the three agents; ``score`` waits
    for all of them; a comparison with fewer than two answers ends there. Otherwise ``execute``
    (each answer's code in the sandbox) -> ``choose_pair`` -> ``await_vote`` (``interrupt``) ->
    ``record_vote`` loops until voting closes, then ``finalize``.
    """
    graph = StateGraph(ComparisonState)
    graph.add_node("begin", nodes.begin_node(services))
    graph.add_edge(START, "begin")
    for name in AGENTS:
        graph.add_node(name, nodes.agent_node(name, services))
        graph.add_edge("begin", name)
    graph.add_node("score", nodes.score_node(services))
    graph.add_edge(list(AGENTS), "score")
    graph.add_node("execute", nodes.execute_node(services))
    graph.add_node("choose_pair", nodes.choose_pair_node(services))
    graph.add_node("await_vote", nodes.await_vote)
    graph.add_node("record_vote", nodes.record_vote_node(services))
    graph.add_node("finalize", nodes.finalize_node(services))
    graph.add_conditional_edges(
        "score", lambda s: END if s.get("error") else "execute", ["execute", END]
    )
    graph.add_edge("execute", "choose_pair")
    graph.add_edge("choose_pair", "await_vote")
    graph.add_edge("await_vote", "record_vote")
    graph.add_conditional_edges(
        "record_vote",
        lambda s: "finalize" if s.get("closed") else "await_vote",
        ["finalize", "await_vote"],
    )
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)
