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

    START -> ``begin`` (the comparison is recorded) fans out to the three agents and the Tester
    (tests from the problem alone, in the same superstep); ``score`` waits for the agents; a
    comparison with fewer than two answers ends there. Otherwise ``execute`` (each answer's code
    in the sandbox, against the examples and the Tester's tests) -> ``choose_pair`` ->
    ``await_vote`` (``interrupt``) -> ``record_vote`` loops until voting closes, then
    ``finalize``.
    """
    graph = StateGraph(ComparisonState)
    graph.add_node("begin", nodes.begin_node(services))
    graph.add_edge(START, "begin")
    for name in AGENTS:
        graph.add_node(name, nodes.agent_node(name, services))
        graph.add_edge("begin", name)
    # The Tester runs in the agents' superstep, so its tests are in the state before ``execute``;
    # ``score`` joins the three agents only, as before it existed, so a thread checkpointed
    # mid-generation by an earlier version still goes on after an upgrade.
    graph.add_node("tester", nodes.tester_node(services))
    graph.add_edge("begin", "tester")
    graph.add_edge("tester", END)
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
