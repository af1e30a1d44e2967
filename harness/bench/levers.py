"""The embedded model's prompt and sampling levers, one at a time: the quality section's run with
the prompts of before issue 28 at one temperature, then the solution-only prompts at that
temperature, then with a temperature per role (the prompts in use). Each lever's block of rows
says which it is; everything else is the quality section's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from harness.bench.quality import bench_quality
from harness.bench.table import Row, log

# The prompts before issue 28 (the agents free to add asserts of their own).
EARLIER_SYSTEM_PROMPTS = {
    "concise_fixer": (
        "You are a senior Python developer. Answer with the shortest correct Python solution "
        "in one ```python code block, followed by at most one sentence."
    ),
    "explainer": (
        "You are a patient Python teacher. Give a correct, readable Python solution in one "
        "```python code block with comments, then explain briefly how it works."
    ),
    "optimizer": (
        "You are a performance-minded Python engineer. Give the most efficient correct Python "
        "solution in one ```python code block, then state its time and space complexity."
    ),
}
EARLIER_TESTER_SYSTEM = (
    "You are a careful Python tester. From the problem alone, write 3 to 6 assert statements "
    "that any correct solution passes, calling the function the problem asks for, in one "
    "```python code block: one assert per line, nothing else."
)
EARLIER_TEMPERATURE = 0.7  # one temperature for every role


@contextlib.contextmanager
def prompts_and_temperatures(
    system: Mapping[str, str] | None, tester: str | None, temperature: float | None
) -> Iterator[None]:
    """The prompts module's values replaced for the block (None: as they are)."""
    from coderank.agents import prompts

    saved = (dict(prompts.SYSTEM_PROMPTS), prompts.TESTER_SYSTEM, dict(prompts.TEMPERATURES))
    try:
        if system is not None:
            prompts.SYSTEM_PROMPTS.update(system)
        if tester is not None:
            prompts.TESTER_SYSTEM = tester
        if temperature is not None:
            prompts.TEMPERATURES.update(dict.fromkeys(prompts.TEMPERATURES, temperature))
        yield
    finally:
        prompts.SYSTEM_PROMPTS.update(saved[0])
        prompts.TESTER_SYSTEM = saved[1]
        prompts.TEMPERATURES.update(saved[2])


LEVERS = (
    (
        " | earlier prompts, T 0.7",
        EARLIER_SYSTEM_PROMPTS,
        EARLIER_TESTER_SYSTEM,
        EARLIER_TEMPERATURE,
    ),
    (" | solution-only prompts, T 0.7", None, None, EARLIER_TEMPERATURE),
    (" | solution-only prompts, T per role (in use)", None, None, None),
)


def bench_levers(model: str, *, cache_dir: str, tmp: Path, limit: int | None) -> list[Row]:
    """The quality rows of ``model`` under each lever, over the first ``limit`` problems."""
    rows: list[Row] = []
    for i, (tag, system, tester, temperature) in enumerate(LEVERS):
        log(f"levers {i + 1}/{len(LEVERS)}:{tag}")
        with prompts_and_temperatures(system, tester, temperature):
            rows += bench_quality(
                [model], cache_dir=cache_dir, tmp=tmp / f"lever-{i}", limit=limit, tag=tag
            )
    return rows
