"""Run as ``python -m tests.graph_process start|vote|start-slow ENV_JSON [CID]`` to use a
comparison from a separate process, with the same scripted agents as the in-process tests
(``start-slow``: the Concise Fixer answers at once, the other two take a minute)."""

from __future__ import annotations

import json
import sys

from coderank.config import from_env
from coderank.services import build_services
from harness.fakes import LengthReranker, fake_agents, slow_agents


def main(argv: list[str]) -> None:
    command, env = argv[0], json.loads(argv[1])
    settings = from_env(env, env_file=None)
    agents = slow_agents(0, 60, 60) if command == "start-slow" else fake_agents()
    services = build_services(settings, agents=agents, reranker=LengthReranker())
    try:
        if command == "start-slow":
            services.comparisons.start(
                "Write f", requester="alice", source="t", comparison_id=argv[2]
            )
        elif command == "start":
            comparison = services.comparisons.start("Write f", requester="alice", source="test")
            print(comparison.comparison_id)
        else:
            result = services.comparisons.vote(argv[2], user="bob", choice="B")
            final = services.comparisons.close(argv[2], user="alice")
            print(json.dumps({"voters": result.voters, "outcome": final.outcome}))
    finally:
        services.close()


if __name__ == "__main__":
    main(sys.argv[1:])
