"""Preference records as a Hugging Face ``datasets`` folder (``Dataset.save_to_disk``).

``datasets`` is imported inside :func:`save_dataset`, so importing this module loads nothing.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from coderank.errors import FineTuneError


def save_dataset(records: Iterable[dict[str, Any]], columns: Sequence[str], out: Path) -> int:
    """Save ``records`` (string ``columns``) as a dataset folder ``out``, which must not exist
    or be empty, through a hidden sibling renamed once complete; return how many were saved.

    Raises:
        FineTuneError: ``out`` is in the way, or the folder cannot be written.
    """
    import datasets
    from datasets import Dataset, Features, Value

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FineTuneError(f"{out} already exists and is not empty")
    rows = list(records)
    features = Features({name: Value("string") for name in columns})
    dataset = Dataset.from_dict({name: [r[name] for r in rows] for name in columns}, features)
    partial = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
    # The export prints one summary line; datasets' bar would add its own on stderr.
    quiet = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Zero rows saved in zero shards is a folder load_from_disk cannot read: one shard then.
        dataset.save_to_disk(str(partial), num_shards=None if rows else 1)
        partial.rename(out)  # replaces an empty folder too
    except OSError as exc:
        raise FineTuneError(f"cannot write the dataset to {out}: {exc}") from exc
    finally:
        if not quiet:
            datasets.enable_progress_bars()
        shutil.rmtree(partial, ignore_errors=True)
    return len(rows)
