"""Style control: a contextual Bradley-Terry fit recovers known strengths and a known style
effect on simulated votes where one agent wins only by writing longer answers."""

from __future__ import annotations

import math

import numpy as np

from coderank.evaluation.formatting import format_report
from coderank.evaluation.pairs import JudgedPair
from coderank.evaluation.preferences import BASE, SCALE, standings, style_controlled
from coderank.evaluation.report import report_of
from coderank.evaluation.style import style_difference, style_of

AGENTS = ("concise_fixer", "explainer", "optimizer")
TRUE = {"concise_fixer": 1050.0, "explainer": 1000.0, "optimizer": 950.0}
BETA = 0.8  # log-odds of winning per SD of the normalised length difference


def simulated(n: int = 3000, seed: int = 1) -> list[JudgedPair]:
    rng = np.random.default_rng(seed)
    battles = []
    for _ in range(n):
        a, b = rng.choice(AGENTS, size=2, replace=False)
        # The explainer writes longer answers; every agent's length varies.
        la, lb = (rng.uniform(1000, 3000) if x == "explainer" else rng.uniform(300, 2000)
                  for x in (a, b))  # fmt: skip
        battles.append((str(a), str(b), la, lb))
    diffs = np.array([(la - lb) / (la + lb) for *_, la, lb in battles])
    sd = diffs.std()
    pairs = []
    for i, ((a, b, la, lb), d) in enumerate(zip(battles, diffs, strict=True)):
        logit = (TRUE[a] - TRUE[b]) * math.log(BASE) / SCALE + BETA * d / sd
        won = rng.random() < 1 / (1 + math.exp(-logit))
        style = {"explanation_share": 0.2, "code_blocks": 1.0}
        pairs.append(
            JudgedPair(
                comparison_id=f"c{i}", agent_a=a, agent_b=b, score_a=0.5, score_b=0.5,
                probability=1.0, model="m", closed_at="2026-11-20T10:00:00+00:00",
                votes={"u": "A" if won else "B"},
                style_a={"length": la, **style}, style_b={"length": lb, **style},
            )
        )  # fmt: skip
    return pairs


def test_style_control_recovers_the_strengths_and_the_length_effect() -> None:
    pairs = simulated()
    fit = style_controlled(pairs)
    length = fit.effects["length"]
    assert length.low is not None and length.high is not None
    assert length.low <= BETA <= length.high
    assert set(fit.effects) == {"length"}  # the other features never differ here
    for agent, true in TRUE.items():
        e = fit.strengths[agent]
        centred = true - sum(TRUE.values()) / 3 + 1000
        assert e.low is not None and e.high is not None and e.low <= centred <= e.high, agent
    raw = {s.agent: s for s in standings(pairs)}
    # Without style control the long-winded explainer beats the stronger concise fixer.
    assert (raw["explainer"].strength.value or 0) > (raw["concise_fixer"].strength.value or 0)
    assert (raw["explainer"].styled.value or 0) < (raw["concise_fixer"].styled.value or 0)
    text = format_report(report_of(pairs))
    assert "agent explainer: Bradley-Terry, style-controlled" in text
    assert "style effect: length (log-odds per SD)" in text


def test_an_answers_style_is_its_length_explanation_and_code_blocks() -> None:
    text = "Here is how:\n```python\n# add them\nx = 1 + 2\n```\nDone.\n```\ny = 3\n```"
    assert style_of(text) == {"length": float(len(text)), "explanation_share": 0.6,
                              "code_blocks": 2.0}  # fmt: skip
    assert style_difference({"length": 3.0}, {"length": 1.0}) == [0.5, 0.0, 0.0]
