"""The digest chart is a PNG, with or without weeks that had no votes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from coderank.evaluation.chart import history_chart
from coderank.evaluation.metrics import Estimate
from coderank.evaluation.weekly import WeekPoint

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
START = datetime(2026, 9, 28, tzinfo=UTC)


def week(i: int, accuracy: float | None, tau: float | None, n: int) -> WeekPoint:
    def estimate(value: float | None, spread: float) -> Estimate:
        if value is None:
            return Estimate(None, 0)
        return Estimate(value, n, value - spread, value + spread)

    return WeekPoint(
        start=START + timedelta(days=7 * i),
        end=START + timedelta(days=7 * (i + 1)),
        accuracy=estimate(accuracy, 0.08),
        kendall_tau=estimate(tau, 0.15),
        pairs=n,
        decisive=n,
    )


def decoded(png: bytes) -> Image.Image:
    assert png.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel: fails on a truncated or corrupt file
    return image


@pytest.mark.parametrize(
    "history",
    [
        [week(i, 0.55 + 0.02 * i, 0.1 + 0.03 * i, 40 + i) for i in range(8)],
        [week(0, 0.6, 0.2, 30), week(1, None, None, 0), week(2, None, None, 0),
         week(3, 0.7, None, 12), week(4, 0.5, -0.1, 25)],
        [week(i, None, None, 0) for i in range(8)],
        [week(0, 0.6, 0.2, 30)],
    ],
    ids=["full", "gaps", "no-votes", "one-week"],
)  # fmt: skip
def test_history_chart_is_a_png(history: list[WeekPoint]) -> None:
    image = decoded(history_chart(history))
    assert image.format == "PNG" and image.size == (800, 600)
    # Something was drawn: far more than a blank canvas's single colour.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24) or []) > 50


def test_weeks_with_data_draw_more_than_empty_weeks() -> None:
    def ink(history: list[WeekPoint]) -> int:
        return sum(decoded(history_chart(history)).convert("L").histogram()[:200])

    empty = [week(i, None, None, 0) for i in range(8)]
    full = [week(i, 0.55 + 0.02 * i, 0.1 + 0.03 * i, 40) for i in range(8)]
    assert ink(full) > ink(empty) + 1000
