"""The weekly digest: its Block Kit message, and posting it (with its chart) to the Slack test
server, checked against an independent calculation and scripts/evaluate_reranker.py.

Votes are generated as feedback-shaped dicts and grouped by ``from_votes`` into closed
comparisons (closed at their last vote): a comparison counts in the week it closed in."""

from __future__ import annotations

import math
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scipy import stats
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.blocks.digest import digest_message
from bot.blocks.text import SECTION_LIMIT
from bot.digest import CHART_FILENAME, post_digest
from coderank.evaluation.weekly import build_digest, digest_from_store
from coderank.models import VOTING
from coderank.store import COMPARISONS, EVALUATION_RESULTS
from coderank.store.sqlite import SQLiteStore
from harness.comparison_docs import from_votes
from harness.settings import ROOT, make_env
from harness.slack_server import SlackApiServer

NOW = datetime(2026, 11, 23, tzinfo=UTC)  # midnight UTC: this week is Nov 16 to Nov 22
WEEK_START = NOW - timedelta(days=7)
CHANNEL = "C0DIGEST"
AGENTS = ["concise_fixer", "explainer", "optimizer"]
FIGURE = re.compile(r"(-?\d+\.\d+)%? \[(-?\d+\.\d+), (-?\d+\.\d+)\] \(n=(\d+)\)")


def vote(cid: str, user: str, choice: str, at: datetime, **pair: Any) -> dict[str, Any]:
    return {
        "_id": f"{cid}:{user}", "comparison_id": cid, "user": user, "choice": choice,
        "created_at": at.isoformat(timespec="milliseconds"), **pair,
    }  # fmt: skip


def synthetic_votes(
    n: int, *, start: datetime, days: int = 7, seed: int = 11, prefix: str = "c"
) -> list[dict[str, Any]]:
    """``n`` comparisons over ``days`` days from ``start``, 1-3 voters each; the team prefers
    the answer the reranker scored higher 70% of the time."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        a, b = rng.sample(AGENTS, 2)
        pair = {
            "agent_a": a, "agent_b": b, "score_a": rng.random(), "score_b": rng.random(),
            "pair_probability": rng.choice([0.3, 0.6, 1.0]),
            "reranker_model": "m2" if i % 4 == 3 else "m1",
        }  # fmt: skip
        better = "A" if pair["score_a"] > pair["score_b"] else "B"
        worse = "B" if better == "A" else "A"
        first = start + timedelta(seconds=rng.randrange(days * 86400 - 4 * 3600))
        for k in range(rng.randint(1, 3)):
            choice = better if rng.random() < 0.7 else rng.choice([worse, "tie", "both_bad"])
            at = first + timedelta(minutes=37 * k)
            docs.append(vote(f"{prefix}{i}", f"U{rng.randrange(6)}{k}", choice, at, **pair))
    return docs


def fixed_votes(n: int, *, start: datetime, right: bool, prefix: str) -> list[dict[str, Any]]:
    """``n`` comparisons, one voter each, all agreeing (or all disagreeing) with the reranker;
    the higher-scored answer is A and B in turn."""
    docs = []
    for i in range(n):
        high, low = 0.9 - i / 100, 0.1
        a_higher = i % 2 == 0
        pair = {
            "agent_a": AGENTS[i % 3], "agent_b": AGENTS[(i + 1) % 3],
            "score_a": high if a_higher else low, "score_b": low if a_higher else high,
            "pair_probability": 1.0, "reranker_model": "m1",
        }  # fmt: skip
        choice = "A" if a_higher == right else "B"
        docs.append(vote(f"{prefix}{i}", "U1", choice, start + timedelta(hours=3 * i), **pair))
    return docs


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found += [e["text"] for e in block.get("elements", []) if "text" in e]
    return found


def section(blocks: list[dict[str, Any]], title: str) -> str:
    return next(t for t in texts(blocks) if t.startswith(title))


def valid(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    assert all(len(t) <= SECTION_LIMIT for t in texts(blocks))


# --- the builder -------------------------------------------------------------------------------


def test_digest_message_shows_the_week_against_the_last() -> None:
    docs = fixed_votes(20, start=WEEK_START - timedelta(days=7), right=False, prefix="l")
    docs += fixed_votes(10, start=WEEK_START, right=True, prefix="t")
    text, blocks = digest_message(build_digest(from_votes(docs), now=NOW))
    valid(blocks)
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "CodeRank weekly digest"
    assert "closed from Mon 16 Nov 2026 00:00 to Mon 23 Nov 2026 00:00 UTC" in texts(blocks)[1]
    figures = section(blocks, "*Reranker vs the team*")
    assert "*Accuracy:* 100.0% [72.2, 100.0] (n=10) · last week 0.0% (n=20) ▲" in figures
    # Perfect agreement is below 1 in tau-b, as the preferences are tied among themselves.
    assert re.search(r"\*Kendall's tau-b:\* 0\.\d{3} .* · last week -0\.\d{3} \(n=20\) ▲", figures)
    assert "*Pairs evaluated:* 10 (10 decisive) · last week 20 (20 decisive) ▼" in figures
    assert "*Model used:* `m1` (10 pairs) · last week `m1` (20 pairs)" in figures
    assert "*Reweighted by 1/p(pair):* accuracy 100.0%" in figures
    assert any(
        t.startswith(":warning: Only 10 decisive pairs") and "385" in t for t in texts(blocks)
    )
    assert text.startswith("CodeRank weekly digest: accuracy 100.0% over 10 decisive pairs")


def test_leaderboard_and_voting_habits() -> None:
    digest = build_digest(from_votes(synthetic_votes(80, start=WEEK_START)), now=NOW)
    _text, blocks = digest_message(digest)
    valid(blocks)
    board = section(blocks, "*Leaderboard*").splitlines()[1:]
    strengths = [float(re.search(r"strength (\d+)", line)[1]) for line in board]  # type: ignore[index]
    assert len(board) == 3 and strengths == sorted(strengths, reverse=True)
    assert {re.search(r"\*(.+?)\*", line)[1] for line in board} == {  # type: ignore[index]
        "Concise Fixer", "Explainer", "Optimizer",
    }  # fmt: skip
    assert all(re.search(r"win rate \d+\.\d% \[", line) for line in board)
    habits = section(blocks, "*Voting habits*")
    h = digest.this_week.habits
    assert f"*Voting habits* ({h.votes} votes)" in habits
    for label in ("Position bias (votes for A): ", "Tie rate: ", "Both-bad rate: "):
        assert re.search(re.escape(label) + FIGURE.pattern, habits), label
    assert "Voter agreement (Krippendorff's alpha): " in habits


def test_no_votes_this_week_still_renders() -> None:
    # Votes on comparisons still open this week are no outcome yet: the week has none.
    still_open = from_votes(synthetic_votes(5, start=WEEK_START), status=VOTING)
    for comparisons in ([], still_open):
        text, blocks = digest_message(build_digest(comparisons, now=NOW))
        valid(blocks)
        assert text == "CodeRank weekly digest: no comparisons closed this week."
        assert "*No comparisons closed this week.*" in texts(blocks)[2]
        assert not any("Leaderboard" in t or ":warning:" in t for t in texts(blocks))
    last_only = fixed_votes(6, start=WEEK_START - timedelta(days=7), right=True, prefix="l")
    _text, blocks = digest_message(build_digest(from_votes(last_only), now=NOW))
    valid(blocks)
    assert "Last week: accuracy 100.0% [61.0, 100.0] (n=6)" in texts(blocks)[2]


def test_enough_decisive_pairs_drop_the_warning() -> None:
    docs = from_votes(synthetic_votes(700, start=WEEK_START, seed=5))
    digest = build_digest(docs, now=NOW, weeks=2)
    assert digest.this_week.agreement.decisive >= 385
    _text, blocks = digest_message(digest)
    valid(blocks)
    assert not any(":warning:" in t for t in texts(blocks))


# --- posting, end to end -----------------------------------------------------------------------


def independent(docs: list[dict[str, Any]], since: datetime, until: datetime) -> dict[str, Any]:
    """The figures by hand from the stored comparison documents: those closed in the window,
    the majority of each one's votes, scipy's tau-b and rho, Wilson's interval."""
    diffs, prefs, right, weights = [], [], [], []
    models: Counter[str] = Counter()
    for doc in docs:
        if doc["status"] != "closed" or not (
            since <= datetime.fromisoformat(doc["closed_at"]) < until
        ):
            continue
        counts = Counter(doc["votes"].values())
        leaders = [c for c, k in counts.items() if k == max(counts.values())]
        outcome = leaders[0] if len(leaders) == 1 else "tie"
        if outcome == "both_bad":
            continue
        shown = doc["pair"]
        diff = doc["scores"][shown["a"]] - doc["scores"][shown["b"]]
        diffs.append(diff)
        prefs.append({"A": 1, "B": -1, "tie": 0}[outcome])
        models[doc["models"]["reranker"]] += 1
        if outcome != "tie":
            right.append(diff > 0 if outcome == "A" else diff < 0)
            weights.append(1 / shown["probability"])
    n, z = len(right), 1.959963984540054
    p = sum(right) / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    wilson = [100 * (centre + sign * half) / (1 + z * z / n) for sign in (-1, 1)]
    rho = stats.spearmanr(diffs, prefs).statistic
    spread = z / math.sqrt(len(diffs) - 3)
    fisher = [math.tanh(math.atanh(rho) + sign * spread) for sign in (-1, 1)]
    return {
        "accuracy": (100 * p, *wilson, n),
        "weighted": 100 * sum(w for w, r in zip(weights, right, strict=True) if r) / sum(weights),
        "tau": (stats.kendalltau(diffs, prefs).statistic, len(diffs)),
        "rho": (rho, *fisher, len(diffs)),
        "pairs": len(diffs),
        "decisive": n,
        "models": dict(models),
    }


@pytest.fixture
def slack() -> Iterator[SlackApiServer]:
    server = SlackApiServer().start()
    yield server
    server.stop()


def parse_figure(text: str) -> tuple[float, float, float, int]:
    match = FIGURE.fullmatch(text.strip())
    assert match, text
    return float(match[1]), float(match[2]), float(match[3]), int(match[4])


def test_a_week_of_votes_makes_a_digest_matching_an_independent_count_and_the_script(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    env = make_env(tmp_path)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    week = synthetic_votes(60, start=WEEK_START)
    before = synthetic_votes(25, start=WEEK_START - timedelta(days=7), seed=12, prefix="b")
    after = synthetic_votes(5, start=NOW, days=1, seed=13, prefix="n")
    pair = {k: v for k, v in week[0].items() if k.startswith(("agent_", "score_", "pair_", "rer"))}
    edges = [
        # Voted across the week's start, closed at its first instant: this week, both votes.
        vote("e1", "U1", "A", WEEK_START - timedelta(milliseconds=1), **pair),
        vote("e1", "U2", "B", WEEK_START, **pair),
        vote("e2", "U1", "A", NOW, **pair),  # closed at the week's very end: next week
        vote("e3", "U1", "B", WEEK_START - timedelta(milliseconds=1), **pair),  # last week
    ]
    docs = from_votes(week + before + after + edges)
    # Still open this week: their votes count in no figure yet.
    docs += from_votes(synthetic_votes(8, start=WEEK_START, seed=14, prefix="o"), status=VOTING)
    store.upsert_many(COMPARISONS, docs)

    digest = digest_from_store(store, now=NOW)
    ts = post_digest(WebClient(token=slack.token, base_url=slack.api_url), CHANNEL, digest)

    # The message in the channel, against a calculation that does not use coderank.evaluation.
    message = slack.messages[(CHANNEL, ts)]
    valid(message["blocks"])
    figures = section(message["blocks"], "*Reranker vs the team*")
    shown = {
        name: re.search(rf"\*{re.escape(name)}:\* (.+?) · last week", figures)[1]  # type: ignore[index]
        for name in ("Accuracy", "Kendall's tau-b", "Spearman's rho", "Pairs evaluated")
    }
    expected = independent(docs, WEEK_START, NOW)
    assert expected["pairs"] > 40 and 0 < expected["decisive"] < expected["pairs"]
    acc = parse_figure(shown["Accuracy"])
    assert acc[:3] == pytest.approx(expected["accuracy"][:3], abs=0.051)
    assert acc[3] == expected["accuracy"][3]
    tau = parse_figure(shown["Kendall's tau-b"])
    assert (tau[0], tau[3]) == (pytest.approx(expected["tau"][0], abs=5.1e-4), expected["tau"][1])
    assert tau[1] < tau[0] < tau[2]
    rho = parse_figure(shown["Spearman's rho"])
    assert rho[:3] == pytest.approx(expected["rho"][:3], abs=5.1e-4)
    assert rho[3] == expected["rho"][3]
    assert shown["Pairs evaluated"] == f"{expected['pairs']} ({expected['decisive']} decisive)"
    model_text = re.search(r"\*Model used:\* (.+?) · last week", figures)[1]  # type: ignore[index]
    shown_models = {m: int(n) for m, n in re.findall(r"`([^`]+)` \((\d+) pairs\)", model_text)}
    assert shown_models == expected["models"] and set(shown_models) == {"m1", "m2"}
    weighted = re.search(r"accuracy (\d+\.\d)% \[", figures.split("Reweighted")[1])[1]  # type: ignore[index]
    assert float(weighted) == pytest.approx(expected["weighted"], abs=0.051)
    assert "Mon 16 Nov 2026 00:00 to Mon 23 Nov 2026 00:00 UTC" in texts(message["blocks"])[1]

    # The chart went to the channel, in the digest's thread.
    assert len(slack.calls_of("files.getUploadURLExternal")) == 1
    [upload] = slack.uploads.values()
    assert upload.completed and (upload.channel, upload.thread_ts) == (CHANNEL, ts)
    assert upload.filename == CHART_FILENAME and "8 weeks" in (upload.title or "")
    assert upload.content is not None and upload.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(upload.content) == upload.length > 10_000

    # The digest is stored as an evaluation run.
    [run] = list(store.find(EVALUATION_RESULTS))
    assert run["kind"] == "digest" and run["agreement"]["pairs"] == expected["pairs"]
    store.close()

    # scripts/evaluate_reranker.py over the same days prints the same figures.
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate_reranker.py"),
         "--since", "2026-11-16", "--until", "2026-11-23"],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = dict(
        re.split(r"\s{2,}", line, maxsplit=1) for line in out.stdout.splitlines() if "  " in line
    )
    assert rows["accuracy"] == shown["Accuracy"]
    assert rows["Kendall's tau-b"] == shown["Kendall's tau-b"]
    assert rows["Spearman's rho"] == shown["Spearman's rho"]
    assert rows["pairs evaluated"] == shown["Pairs evaluated"]
    assert rows["model used"] == ", ".join(f"{m} ({n})" for m, n in shown_models.items())
