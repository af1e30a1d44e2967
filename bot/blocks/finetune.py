"""Fine-tune messages to the admin: progress, the result, and the runs ``status`` lists."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot import messages
from coderank.evaluation.formatting import percent


def as_blocks(text: str) -> list[dict[str, Any]]:
    return [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else percent(value)


def progress_text(by: str, stage: str, fraction: float) -> str:
    shown = messages.FINETUNE_STAGES.get(stage, stage).format(percent=fraction * 100)
    return messages.FINETUNE_PROGRESS.format(by=by, stage=shown)


def _epochs(stopping: dict[str, Any]) -> str:
    if stopping["early_stopping"]:
        return (
            f"Epochs: {stopping['epochs_run']} run, epoch {stopping['best_epoch']} kept "
            f"({stopping['reason']})"
        )
    return f"Epochs: {stopping['epochs_run']}, no early stopping ({stopping['reason']})"


def result_text(run: dict[str, Any]) -> str:
    """A stored fine-tune run (``FineTuneRun.to_document()``) as the admin reads it."""
    m = run["metrics"]
    pairs, before, after = m["pairs"], m["before"], m["after"]
    left_out = ", ".join(f"{n} {why}" for why, n in sorted(run.get("left_out", {}).items()))
    verdict = ":white_check_mark: *Promoted*" if run["promoted"] else ":no_entry: *Not promoted*"
    return "\n".join(
        [
            f"*Fine-tune finished* (asked by <@{run['by']}>)",
            f"Pairs used: {pairs['total']} ({pairs['train']} to train on, {pairs['held_out']} "
            f"held out from {pairs['held_out_problems']} problems the model never saw)"
            + (f"; left out: {left_out}" if left_out else ""),
            f"Held-out accuracy: {_percent(before['accuracy'])} before → "
            f"{_percent(after['accuracy'])} after "
            f"[{_percent(after['accuracy_low'])}, {_percent(after['accuracy_high'])}]",
            *(
                f"• {kind}: {_percent(before.get('by_kind', {}).get(kind, {}).get('accuracy'))}"
                f" → {_percent(e['accuracy'])} (n={e['n']})"
                for kind, e in after.get("by_kind", {}).items()
            ),
            *([_epochs(m["early_stopping"])] if "early_stopping" in m else []),
            f"Model: `{m['model']}` (from `{m['base_model']}`)",
            f"{verdict}: {run['reason']}",
        ]
    )


def runs_text(runs: list[dict[str, Any]]) -> str:
    """One line per recent run, newest first."""
    if not runs:
        return "No fine-tunes yet."
    lines = []
    for run in runs:
        m = run["metrics"]
        lines.append(
            f"• {run['created_at']} by <@{run['by']}>: {m['pairs']['total']} pairs, accuracy "
            f"{_percent(m['before']['accuracy'])} → {_percent(m['after']['accuracy'])}, "
            f"{'promoted' if run['promoted'] else 'not promoted'} (`{m['model']}`)"
        )
    return "\n".join(lines)
