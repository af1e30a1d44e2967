"""``scripts/export_feedback.py``: one line per closed comparison decided A or B by its voters'
majority, read back by the fine-tune's reader; ties and both-bad left out and counted, open
comparisons left out. ``--format dpo`` and ``hf`` load with ``datasets``; texts are scrubbed unless
``--keep-ids``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import load_dataset, load_from_disk

from coderank.finetune.dataset import read_pairs
from coderank.finetune.export import export_pairs
from coderank.models import CLOSED, VOTING
from coderank.store import COMPARISONS, RESPONSES, doc_id
from coderank.store.sqlite import SQLiteStore
from harness.comparison_docs import comparison_doc
from harness.settings import make_env

ROOT = Path(__file__).resolve().parents[3]


def seed(
    store: SQLiteStore,
    cid: str,
    votes: dict[str, str],
    *,
    day: str = "2026-11-20",
    status: str = CLOSED,
    problem: str | None = None,
    answers: dict[str, str] | None = None,
) -> None:
    """A comparison of explainer (shown as A) against optimizer (B) with ``votes``, closed on
    ``day`` (``status="voting"``: still open), and its two answers (``answers``: agent -> text)."""
    problem = problem or f"problem {cid}"
    for agent in ("explainer", "optimizer"):
        store.upsert(
            RESPONSES,
            {
                "_id": doc_id(cid, agent),
                "comparison_id": cid,
                "agent": agent,
                "problem": problem,
                "text": (answers or {}).get(agent, f"{agent}'s answer to {cid}"),
            },
        )
    store.upsert(
        COMPARISONS,
        comparison_doc(
            cid,
            votes=votes,
            score_a=0.1,
            score_b=0.2,
            closed_at=f"{day}T10:00:00.000+00:00",
            status=status,
            problem=problem,
        ),
    )


def test_the_majority_decides_and_ties_and_both_bad_are_counted(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    seed(store, "c1", {"u1": "A", "u2": "A", "u3": "B"})  # A: explainer chosen
    seed(store, "c2", {"u1": "B"})  # B: optimizer chosen
    seed(store, "c3", {"u1": "A", "u2": "B"})  # a draw is a tie
    seed(store, "c4", {"u1": "both_bad", "u2": "both_bad", "u3": "A"})
    seed(store, "c5", {"u1": "tie"})
    seed(store, "c6", {"u1": "A", "u2": "A"}, status=VOTING)  # decisive so far, but still open
    out = tmp_path / "pairs.jsonl"
    count = export_pairs(store, out)
    assert count.exported == 2
    assert dict(count.skipped) == {"tie": 2, "both-bad": 1}
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0] == {
        "comparison_id": "c1",
        "query": "problem c1",
        "chosen": "explainer's answer to c1",
        "rejected": "optimizer's answer to c1",
        "chosen_agent": "explainer",
        "rejected_agent": "optimizer",
        "votes": {"A": 2, "B": 1, "tie": 0, "both_bad": 0},
        "created_at": "2026-11-20T10:00:00.000+00:00",  # when the comparison closed
    }
    assert (lines[1]["chosen_agent"], lines[1]["rejected_agent"]) == ("optimizer", "explainer")
    assert [p.comparison_id for p in read_pairs(out)] == ["c1", "c2"]  # not the open c6


def test_the_script_exports_since_a_day_and_prints_the_counts(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    seed(store, "old", {"u1": "A"}, day="2026-10-01")
    seed(store, "new", {"u1": "B"}, day="2026-11-20")
    seed(store, "draw", {"u1": "tie"}, day="2026-11-21")
    seed(store, "open", {"u1": "A"}, day="2026-11-22", status=VOTING)  # not exported, not counted
    store.close()
    out = tmp_path / "out" / "pairs.jsonl"
    done = subprocess.run(
        [sys.executable, "scripts/export_feedback.py", "--out", str(out), "--since", "2026-11-01"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"1 pairs exported; left out: 1 tie -> {out}"
    assert [p.comparison_id for p in read_pairs(out)] == ["new"]


def test_a_bad_date_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    done = subprocess.run(
        [sys.executable, "scripts/export_feedback.py", "--out", str(out), "--since", "last week"],
        cwd=ROOT,
        env={**os.environ, **make_env(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "'last week' is not a date: expected YYYY-MM-DD" in done.stderr
    assert not out.exists()


# A problem and an answer as people paste them in Slack, and voters with Slack user ids.
TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
HF_KEY = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"
PROBLEM = f"<@U0123ABCD> asks: why does WebClient(token='{TOKEN}') fail? Mail jane@example.com"
# Shapes exports once missed: an Astra token, an id joined to a word, a percent-encoded token.
ASTRA = "AstraCS:AbCdEfGhIjKl:0123456789abcdef0123456789abcdef"
ENCODED = "xoxb%2D1234567890%2DAbCdEfGhIjKl"
ANSWER = (
    f"Log in first:\n\n```python\nlogin(token='{HF_KEY}')\ndb = connect('{ASTRA}')\n"
    f"owner = 'user_U0234BCDE'\nhook = 'https://example.com/?t={ENCODED}'\n```"
)
SECRETS = (TOKEN, HF_KEY, ASTRA, ENCODED, "jane@example.com", "U0123ABCD", "U0234BCDE")
VOTERS = ("U0VOTER001", "W0VOTER002")


def seeded(tmp: Path) -> dict[str, str]:
    """An environment whose store holds two decisive comparisons (one with secrets) and a tie."""
    env = make_env(tmp)
    store = SQLiteStore(Path(env["DATA_DIR"]) / "coderank.db")
    first, second = VOTERS
    seed(store, "c1", {first: "A", second: "A"}, problem=PROBLEM, answers={"explainer": ANSWER})
    seed(store, "c2", {first: "B"})
    seed(store, "c3", {first: "A", second: "B"})
    store.close()
    return env


def export(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/export_feedback.py", *args],
        cwd=ROOT,
        env={**os.environ, **env, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


# The problem's mention, token and address, and the chosen answer's keys and owner.
SCRUBBED = "scrubbed: 4 tokens, 1 e-mail address, 2 Slack user ids"


def test_the_dpo_export_loads_with_datasets_and_reads_back_for_the_finetune(
    tmp_path: Path,
) -> None:
    out = tmp_path / "dpo.jsonl"
    done = export(seeded(tmp_path), "--format", "dpo", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"2 pairs exported; left out: 1 tie; {SCRUBBED} -> {out}"
    rows = load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "c"))
    assert rows.column_names == ["prompt", "chosen", "rejected"]
    assert rows[1] == {
        "prompt": "problem c2",
        "chosen": "optimizer's answer to c2",
        "rejected": "explainer's answer to c2",
    }
    assert (
        rows[0]["prompt"] == "[user] asks: why does WebClient(token='[token]') fail? Mail [email]"
    )
    assert "login(token='[token]')" in rows[0]["chosen"]
    assert [p.query for p in read_pairs(out)] == rows["prompt"]  # a valid fine-tune input


@pytest.mark.parametrize("fmt", ["dpo", "pairs"])
def test_no_token_address_or_user_id_is_exported_unless_keep_ids(tmp_path: Path, fmt: str) -> None:
    env = seeded(tmp_path)
    scrubbed, kept = tmp_path / "scrubbed.jsonl", tmp_path / "kept.jsonl"
    assert export(env, "--format", fmt, "--out", str(scrubbed)).returncode == 0
    done = export(env, "--format", fmt, "--out", str(kept), "--keep-ids")
    assert done.returncode == 0, done.stderr
    assert "scrubbed" not in done.stdout
    text, raw = scrubbed.read_text(), kept.read_text()
    assert not [s for s in SECRETS if s in text]
    assert [s for s in SECRETS if s in raw] == list(SECRETS)
    # Votes are counts in every format: no voter id, even with --keep-ids.
    assert not [v for v in VOTERS if v in text + raw]
    # The comparison id leads back to who voted: only CodeRank's own format, or --keep-ids, has it.
    assert ('"c1"' in text) == (fmt == "pairs")
    assert '"comparison_id": "c1"' in raw


def test_the_hf_export_is_a_datasets_folder_and_never_overwrites_one(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    out = tmp_path / "pairs-hf"
    done = export(env, "--format", "hf", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"2 pairs exported; left out: 1 tie; {SCRUBBED} -> {out}"
    assert done.stderr == ""  # no progress bar of datasets' own
    rows = load_from_disk(str(out))
    assert rows.column_names == ["prompt", "chosen", "rejected"]
    assert rows["prompt"] == [
        "[user] asks: why does WebClient(token='[token]') fail? Mail [email]",
        "problem c2",
    ]
    before = sorted(p.name for p in out.iterdir())
    again = export(env, "--format", "hf", "--out", str(out), "--keep-ids")
    assert again.returncode == 2
    assert again.stderr == f"error: {out} already exists and is not empty\n"
    assert sorted(p.name for p in out.iterdir()) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial copy


def test_an_empty_hf_export_still_loads(tmp_path: Path) -> None:
    out = tmp_path / "none"
    done = export(seeded(tmp_path), "--format", "hf", "--out", str(out), "--since", "2030-01-01")
    assert done.stdout.strip() == f"0 pairs exported -> {out}", done.stderr
    rows = load_from_disk(str(out))
    assert (rows.num_rows, rows.column_names) == (0, ["prompt", "chosen", "rejected"])
