"""Execution at the reveal: each answer's code run in the real bwrap sandbox against the problem's
examples; hidden while voting is open, shown in the results message once it closes."""

from __future__ import annotations

from pathlib import Path

from bot import ids
from coderank.store import EXECUTIONS
from harness.fakes import fake_agents
from harness.running_bot import start_bot
from harness.slack_server import SlackApiServer
from harness.slack_text import text_of
from tests.bot.test_flow import closed_message

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
        assert f"CodeRank picked {better} (execution decided;" in shown
    finally:
        bot.stop()


def test_admins_see_each_voters_agreement_with_the_gold_comparisons(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    bot = start_bot(tmp_path, slack, agents=fake_agents(ANSWERS))
    try:
        bot.send.command(PROBLEM)
        cid, ts, _ = bot.vote_message()
        comparison = bot.core.comparisons.get(cid)
        # Execution ranks first: 2/2 (score 1.0) and 1/2 (0.6) are shown, a gold comparison.
        assert comparison.pair is not None
        assert {comparison.pair.a, comparison.pair.b} == {"concise_fixer", "optimizer"}
        right = "A" if comparison.pair.a == "concise_fixer" else "B"
        wrong = "B" if right == "A" else "A"
        for user, choice in (("U0BOB", right), ("U0CAROL", wrong), ("U0DAN", "tie")):
            button = {"A": ids.VOTE_A, "B": ids.VOTE_B, "tie": ids.VOTE_TIE}[choice]
            bot.send.click(button, cid, user=user, channel="C0GENERAL", message_ts=ts)
        slack.wait_for(lambda: "3 people have voted." in text_of(slack.messages[("C0GENERAL", ts)]))
        bot.send.click(ids.CLOSE_VOTING, cid, user="U0ALICE", channel="C0GENERAL", message_ts=ts)
        closed_message(bot, ts)

        refused = bot.send.command("voters", command="/coderank-admin", user="U0BOB")
        assert "Only CodeRank admins" in refused.body
        bot.send.command("voters", command="/coderank-admin", user="U0ADMIN")
        (reply,) = slack.wait_for(lambda: [r for r in slack.responses if "*Voters*" in r["text"]])
        assert reply["response_type"] == "ephemeral"
        lines = {line.split(":")[0]: line for line in reply["text"].splitlines()[1:]}
        assert "gold 1 for, 0 against" in lines["U0BOB"]
        assert "gold 0 for, 1 against" in lines["U0CAROL"]
        assert "gold 0 for, 0 against (agreement n/a (n=0))" in lines["U0DAN"]
    finally:
        bot.stop()


HOGGING = (  # ignores the per-test alarm and spins: only the sandbox's CPU limit stops it
    "```python\nimport signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
    "while True:\n    pass\n```"
)


def test_the_bot_keeps_serving_other_channels_while_a_hostile_answer_runs(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from coderank.agents.agents import build_agents

    # Each agent answers the first problem well and the second with code that hogs the CPU.
    agents = {
        name: build_agents(FakeListChatModel(responses=[ANSWERS[name], HOGGING]), timeout_s=5)[name]
        for name in ANSWERS
    }
    bot = start_bot(tmp_path, slack, agents=agents)
    try:
        bot.send.command(PROBLEM, channel="C0FIRST")
        first, first_ts, _ = bot.vote_message("C0FIRST")
        bot.send.command(PROBLEM, channel="C0SECOND")  # its three answers now spin in the sandbox
        slack.wait_for(lambda: bot.core.store.count("comparisons") == 2)
        click = bot.send.click(
            ids.VOTE_A, first, user="U0BOB", channel="C0FIRST", message_ts=first_ts,
            response_name="bob",
        )  # fmt: skip
        assert click.status == 200 and click.seconds < 3
        (confirmation,) = slack.wait_for(lambda: slack.responses_to("bob"))
        assert confirmation["text"].startswith("You voted A")
        assert not any(
            ch == "C0SECOND" and "Which answer" in (m["text"] or "")
            for (ch, _), m in slack.messages.items()
        )  # still running its answers
        second, _, _ = bot.vote_message("C0SECOND", timeout_s=60)
        runs = bot.core.store.find(EXECUTIONS, {"comparison_id": second})
        stopped = {d["agent"]: d["summary"] for d in runs}
        # three spinning answers on two cores: the CPU limit or the wall clock stops each
        assert set(stopped.values()) <= {"stopped: cpu limit", "stopped: timeout"}, stopped
        assert len(stopped) == 3
        assert bot.core.comparisons.get(first).votes == {"U0BOB": "A"}
    finally:
        bot.stop()


def test_a_setting_shows_the_checks_while_voting_is_open(
    tmp_path: Path, slack: SlackApiServer
) -> None:
    bot = start_bot(tmp_path, slack, agents=fake_agents(ANSWERS), env={"CHECKS_WHILE_VOTING": "on"})
    try:
        bot.send.command(PROBLEM)
        cid, _, message = bot.vote_message()
        comparison = bot.core.comparisons.get(cid)
        assert comparison.pair is not None
        a, b = comparison.pair.a, comparison.pair.b
        assert f"*Checks:* A: {EXPECTED[a]} · B: {EXPECTED[b]}" in text_of(message)
    finally:
        bot.stop()
