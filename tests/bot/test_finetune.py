"""``/coderank-admin finetune`` and ``status`` through the running bot and the Slack test server:
who may run it, one at a time, progress and result in a direct message, and (slow) the whole loop:
votes collected in Slack produce a better reranker that is promoted and scores the next comparison.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import ids
from coderank.models import Answer
from coderank.store import EVALUATION_RESULTS, RERANKER_SCORES
from harness.finetune_data import synthetic_pairs
from harness.running_bot import RunningBot, start_bot
from harness.settings import ROOT
from harness.slack_server import SlackApiServer
from harness.slack_text import text_of
from tests.bot.test_metrics import scrape, value

ADMIN = "U0ADMIN"


def dm_text(bot: RunningBot, user: str = ADMIN) -> str:
    """The latest text of the bot's direct message to ``user``."""
    dms = [m for (ch, _), m in bot.slack.messages.items() if ch == user]
    return text_of(dms[-1]) if dms else ""


def failed_runs(bot: RunningBot) -> int:
    messages = bot.slack.messages.items()
    return sum("Fine-tune failed" in text_of(m) for (ch, _), m in messages if ch == ADMIN)


def test_only_admins_may_fine_tune(bot: RunningBot, tmp_path: Path) -> None:
    refused = bot.send.command("finetune", command="/coderank-admin", user="U0BOB")
    assert "Only CodeRank admins" in refused.body
    assert bot.settled() == 1  # its listener run has returned
    assert bot.slack.calls_of("chat.postMessage") == []
    assert not (tmp_path / "models").exists()


# Holds the fine-tune slot in its own process until its stdin closes, as another replica would.
HOLD_THE_GATE = """
import sys
from pathlib import Path
from coderank.finetune.gate import FineTuneGate
gate = FineTuneGate(Path(sys.argv[1]))
assert gate.try_enter(by=sys.argv[2], now=sys.argv[3]) is None
print("held", flush=True)
sys.stdin.read()
gate.leave()
"""


def test_a_second_fine_tune_is_told_who_runs_the_first(bot: RunningBot, tmp_path: Path) -> None:
    lock = tmp_path / "data" / "finetune.lock"
    running = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_GATE, str(lock), "U0CAROL", "2026-11-25T09:30:00+00:00"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert running.stdout is not None and running.stdout.readline() == "held\n"
        busy = bot.send.command("finetune", command="/coderank-admin", user=ADMIN)
        assert busy.status == 200 and busy.seconds < 3
        assert "A fine-tune started by <@U0CAROL> at 2026-11-25 09:30:00 UTC is still running" in (
            busy.body
        )
        assert bot.settled() == 1  # its listener run has returned
        assert bot.slack.calls_of("chat.postMessage") == []
    finally:
        assert running.stdin is not None
        running.stdin.close()  # the other process's fine-tune ends
        running.wait(timeout=30)
    assert running.returncode == 0


def test_too_few_votes_fail_clearly_and_free_the_slot(bot: RunningBot, tmp_path: Path) -> None:
    acked = bot.send.command("finetune", command="/coderank-admin", user=ADMIN)
    assert "Fine-tuning started" in acked.body
    failed = bot.slack.wait_for(lambda: "Fine-tune failed" in dm_text(bot) and dm_text(bot))
    assert "too few pairs" in failed and "Nothing was promoted" in failed
    assert not (tmp_path / "models").exists()
    again = bot.send.command("finetune", command="/coderank-admin", user=ADMIN)
    assert "Fine-tuning started" in again.body  # the slot was given back
    bot.slack.wait_for(lambda: len(bot.slack.calls_of("chat.postMessage")) == 2)
    bot.slack.wait_for(lambda: failed_runs(bot) == 2)  # it ends, too, before the bot stops
    samples = scrape(bot)
    assert value(samples, "coderank_finetunes_total", outcome="failed") == 2
    assert value(samples, "coderank_finetune_seconds_count") == 2


class ScriptedAgent:
    """Answers each problem with a fixed text."""

    def __init__(self, name: str, texts: dict[str, str]) -> None:
        self.name, self.texts = name, texts

    def answer(self, problem: str) -> Answer:
        return Answer(agent=self.name, text=self.texts[problem], code="")


@pytest.mark.slow
def test_votes_in_slack_fine_tune_and_promote_a_better_reranker(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    # For each problem the Concise Fixer answers correctly and the other two give broken code;
    # the team (here, the test) votes for the working answer whenever it is shown.
    first, second = synthetic_pairs(60, seed=11), synthetic_pairs(60, seed=12)
    agents = {
        "concise_fixer": ScriptedAgent("concise_fixer", {p.query: p.chosen for p in first}),
        "explainer": ScriptedAgent("explainer", {p.query: p.rejected for p in first}),
        "optimizer": ScriptedAgent("optimizer", {p.query: p.rejected for p in second}),
    }
    env = {"VOTE_QUORUM": "1", "PAIR_POLICY": "random", "PAIR_EXPLORE": "0"}
    bot = start_bot(tmp_path, slack, agents=agents, env=env, live_reranker=True)
    try:
        comparisons = bot.core.comparisons
        for i, pair in enumerate(first):
            channel = f"C{i:04d}"
            bot.send.command(pair.query, channel=channel)
            cid, ts, _ = bot.vote_message(channel, timeout_s=90)  # the real reranker scores
            shown = comparisons.get(cid).pair
            assert shown is not None
            action = {shown.a: ids.VOTE_A, shown.b: ids.VOTE_B}.get(
                "concise_fixer", ids.VOTE_BOTH_BAD
            )
            bot.send.click(action, cid, user="U0VOTER", channel=channel, message_ts=ts)
            bot.slack.wait_for(lambda cid=cid: comparisons.get(cid).closed)
        before_model = bot.services.reranker_model

        acked = bot.send.command("finetune", command="/coderank-admin", user=ADMIN)
        assert acked.seconds < 3 and "Fine-tuning started" in acked.body
        updates = set()
        deadline = time.monotonic() + 600
        while "Fine-tune finished" not in (text := dm_text(bot)):
            assert "Fine-tune failed" not in text, text
            assert time.monotonic() < deadline, "the fine-tune did not finish in 10 minutes"
            updates.add(text.split(": ", 1)[-1])
            time.sleep(0.2)
        assert any(u.startswith("training: ") for u in updates), updates
        assert ":white_check_mark: *Promoted*" in text
        assert value(scrape(bot), "coderank_finetunes_total", outcome="promoted") == 1
        (run,) = [d for d in bot.core.store.find(EVALUATION_RESULTS) if d["kind"] == "finetune"]
        before, after = run["metrics"]["before"]["accuracy"], run["metrics"]["after"]["accuracy"]
        assert after > before
        model = run["metrics"]["model"]
        assert Path(model, "metrics.json").is_file()
        assert bot.services.reranker_model == str(Path(model).resolve()) != before_model

        bot.send.command("status", command="/coderank-admin", user=ADMIN)
        (status,) = bot.slack.wait_for(
            lambda: [r["text"] for r in bot.slack.responses if "CodeRank status" in r["text"]]
        )
        assert f"Reranker in use: `{Path(model).resolve()}`" in status
        assert "promoted" in status

        # The next comparison is scored by the promoted model, without restarting the bot.
        bot.send.command(first[0].query, channel="C9999", trigger_id="next.trigger")
        cid, _, _ = bot.vote_message("C9999", timeout_s=90)
        scores = list(bot.core.store.find(RERANKER_SCORES, {"comparison_id": cid}))
        assert {s["model_id"] for s in scores} == {str(Path(model).resolve())}
    finally:
        bot.stop()


def test_the_result_says_how_the_epochs_were_chosen() -> None:
    from bot.blocks.finetune import result_text

    figures = {"accuracy": 0.8, "accuracy_low": 0.7, "accuracy_high": 0.9, "kendall_tau": 0.3}
    metrics = {
        "pairs": {"total": 80, "train": 54, "held_out": 16, "held_out_problems": 8},
        "before": figures,
        "after": figures,
        "model": "m",
        "base_model": "b",
    }
    run = {"metrics": metrics, "by": "U1", "promoted": False, "reason": "no"}
    assert "Epochs" not in result_text(run)  # a run recorded before early stopping
    metrics["early_stopping"] = {
        "early_stopping": True,
        "reason": "best of 4 epochs on 8 validation problems, stopped after 2 without a gain",
        "epochs_run": 4,
        "best_epoch": 2,
    }
    assert "Epochs: 4 run, epoch 2 kept (best of 4 epochs on 8 validation" in result_text(run)
    metrics["early_stopping"] = {
        "early_stopping": False,
        "reason": "too few training problems (12) to set 3 aside for validation",
        "epochs_run": 5,
        "best_epoch": 5,
    }
    assert "Epochs: 5, no early stopping (too few training problems (12)" in result_text(run)
