"""``scripts/offline_finetune_reranker.py`` as an admin runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.finetune_data import synthetic_pairs, write_jsonl
from harness.settings import ROOT, make_env

SCRIPT = ROOT / "scripts" / "offline_finetune_reranker.py"


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=tmp,
        env={**os.environ, **make_env(tmp), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def bad_input(tmp: Path, name: str) -> Path:
    path = tmp / name
    good = json.dumps(synthetic_pairs(1)[0].to_json())
    if name == "malformed.jsonl":
        path.write_text(f"{good}\n{{oops\n")
    elif name == "too-few.jsonl":
        write_jsonl(synthetic_pairs(5), path)
    elif name == "minimal.jsonl":
        pair = synthetic_pairs(1)[0]
        first = {"prompt": pair.query, "chosen": pair.chosen, "rejected": pair.rejected}
        path.write_text(
            f"{json.dumps(first)}\n{json.dumps({'prompt': 'Write f', 'chosen': 'x'})}\n"
        )
    return path


def minimal_lines(path: Path, n: int, *, problems: int) -> Path:
    """``n`` pairs as another tool writes them (``query`` or ``prompt``, the two answers), their
    distinct texts grouped into ``problems`` problems by ``problem_id``."""
    rows = (
        {
            "prompt" if i % 2 else "query": p.query,
            "chosen": p.chosen,
            "rejected": p.rejected,
            "problem_id": f"p{i % problems}",
        }
        for i, p in enumerate(synthetic_pairs(n))
    )
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.jsonl", "missing.jsonl: no such file"),
        ("malformed.jsonl", "malformed.jsonl: line 2: not JSON"),
        ("too-few.jsonl", "too few pairs: 5, need at least 20"),
        ("minimal.jsonl", "minimal.jsonl: line 2: missing field 'rejected'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, name: str, message: str
) -> None:
    data = bad_input(tmp_path, name)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = run(tmp_path, "--data", str(data), "--out", str(tmp_path / "models" / "ft"))
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message in out.stderr
    assert out.stderr.count("\n") == 1
    assert out.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_existing_out_folder_is_refused(tmp_path: Path) -> None:
    data = write_jsonl(synthetic_pairs(25), tmp_path / "pairs.jsonl")
    (tmp_path / "ft").mkdir()
    (tmp_path / "ft" / "old.bin").write_text("old")
    out = run(tmp_path, "--data", str(data), "--out", str(tmp_path / "ft"))
    assert out.returncode == 2
    assert "already exists and is not empty" in out.stderr
    assert [p.name for p in (tmp_path / "ft").iterdir()] == ["old.bin"]


def test_a_zero_epoch_count_is_a_usage_error(tmp_path: Path) -> None:
    out = run(tmp_path, "--data", "x.jsonl", "--epochs", "0")
    assert out.returncode == 2
    assert "not a positive integer" in out.stderr


@pytest.mark.slow
def test_a_run_prints_the_summary_and_saves_the_model(tmp_path: Path) -> None:
    data = write_jsonl(synthetic_pairs(30), tmp_path / "pairs.jsonl")
    target = tmp_path / "models" / "ft"
    out = run(tmp_path, "--data", str(data), "--out", str(target), "--epochs", "1")
    assert out.returncode == 0, out.stderr
    assert "held-out accuracy before" in out.stdout and "held-out accuracy after" in out.stdout
    assert str(target) in out.stdout
    assert "promoted" in out.stdout
    assert json.loads((target / "metrics.json").read_text())["pairs"]["total"] == 30


@pytest.mark.slow
def test_a_file_of_minimal_pairs_fine_tunes_split_by_its_problem_ids(tmp_path: Path) -> None:
    data = minimal_lines(tmp_path / "pairs.jsonl", 20, problems=5)
    target = tmp_path / "models" / "ft"
    out = run(tmp_path, "--data", str(data), "--out", str(target), "--epochs", "1")
    assert out.returncode == 0, out.stderr
    assert (
        "20 (16 train on 4 problems, +4 against another problem's answer, 4 held out on 1)"
        in out.stdout
    )
    assert "held-out accuracy after" in out.stdout
    assert json.loads((target / "metrics.json").read_text())["pairs"]["total"] == 20
