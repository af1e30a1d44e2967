"""Execution at the reveal: each answer's code run in the real bwrap sandbox against the problem's
examples; hidden while voting is open, shown in the results message once it closes."""

from __future__ import annotations

from pathlib import Path

from bot import ids
from coderank.store import EXECUTIONS
from tests.bot.conftest import start_bot
from tests.bot.test_flow import closed_message, text_of
from tests.fakes import fake_agents
from tests.slack_server import SlackApiServer

PROBLEM = "Write is_prime(n).\n>>> is_prime(7)\nTrue\n>>> is_prime(1)\nFalse"
ANSWERS = {
    "concise_fixer": "```python\ndef is_prime(n):\n    return n > 1 and all(n % d for d in "
    "range(2, n))\n```",
    "explainer": "```python\ndef is_prime(n):\n    return is_prime_prime(n)\n```\nShort.",
    "optimizer": "```python\ndef is_prime(n):\n    return all(n % d for d in range(2, n))\n```",
}
EXPECTED = {
    "concise_fixer": "2/2 checks passed",
    "explainer": "NameError: name 'is_prime_prime' is not defined",
    "optimizer": "1/2 checks passed",
}


def test_the_checks_are_shown_at_the_reveal_only(tmp_path: Path, slack: SlackApiServer) -> None:
    bot = start_bot(tmp_path, slack, agents=fake_agents(ANSWERS))
    try:
        bot.send.command(PROBLEM)
        cid, ts, message = bot.vote_message()
        assert "checks passed" not in text_of(message) and "NameError" not in text_of(message)
        runs = {d["agent"]: d for d in bot.core.store.find(EXECUTIONS, {"comparison_id": cid})}
        assert {a: r["summary"] for a, r in runs.items()} == EXPECTED
        comparison = bot.core.comparisons.get(cid)
        assert comparison.pair is not None
        a, b = comparison.pair.a, comparison.pair.b

        bot.send.click(ids.CLOSE_VOTING, cid, user="U0ALICE", channel="C0GENERAL", message_ts=ts)
        shown = text_of(closed_message(bot, ts))
        assert f"*Checks:* A: {EXPECTED[a]} · B: {EXPECTED[b]}." in shown, shown
        better = "A" if runs[a]["score"] > runs[b]["score"] else "B"
        assert f"Execution picked {better}." in shown
    finally:
        bot.stop()
