"""The Slack adapter under load: acknowledgement latency with generations in flight, and the
time from a click to the updated message, through the real Bolt app over HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot import ids
from harness.bench.table import Row, log, percentile
from harness.fakes import slow_agents
from harness.running_bot import start_bot
from harness.slack_server import SlackApiServer
from harness.slack_text import text_of

CHANNEL = "C0GENERAL"


def _voted(slack: SlackApiServer, ts: str, voters: int) -> bool:
    noun = "person has" if voters == 1 else "people have"
    return f"{voters} {noun} voted." in text_of(slack.messages[(CHANNEL, ts)])


def bench_slack(
    tmp: Path, *, in_flight: int = 10, commands: int = 40, clicks: int = 200, updates: int = 10
) -> list[Row]:
    """Ack latency of ``/coderank`` and of clicks while ``in_flight`` generations run (scripted
    agents that each take 5 s, so the load is the bot's, not the model's), then click-to-update."""
    slack = SlackApiServer().start()
    bot = start_bot(
        tmp / "slack", slack, agents=slow_agents(5.0), env={"GEN_WORKERS": str(in_flight)}
    )
    try:
        bot.send.command("The comparison people vote on")
        cid, ts, _ = bot.vote_message()
        log(f"  {in_flight} generations in flight")
        for i in range(in_flight):
            bot.send.command(f"Background problem {i}")
        command_acks = [bot.send.command(f"Measured problem {i}").seconds for i in range(commands)]
        with ThreadPoolExecutor(10) as pool:
            click_acks = list(
                pool.map(
                    lambda i: (
                        bot.send.click(
                            ids.VOTE_A, cid, user=f"U{i:04d}", channel=CHANNEL, message_ts=ts
                        ).seconds
                    ),
                    range(clicks),
                )
            )
        slack.wait_for(lambda: _voted(slack, ts, clicks), timeout_s=60)
        time.sleep(1.2)
        log(f"  click-to-update latency over {updates} clicks, 0.5 s apart")
        to_update = []
        for i in range(updates):
            began = time.monotonic()
            bot.send.click(ids.VOTE_B, cid, user=f"UNEW{i}", channel=CHANNEL, message_ts=ts)
            slack.wait_for(lambda n=clicks + i + 1: _voted(slack, ts, n), timeout_s=10)
            to_update.append(time.monotonic() - began)
            time.sleep(0.5)
    finally:
        log("  waiting for the queued generations to finish")
        bot.stop()
        slack.stop()
    ms = 1000.0
    note = f"{in_flight} generations in flight; target p99 < 300 ms"
    return [
        Row(
            "/coderank ack p50",
            f"{percentile(command_acks, 50) * ms:.1f}",
            "ms",
            f"{commands} commands, {note}",
        ),
        Row("/coderank ack p99", f"{percentile(command_acks, 99) * ms:.1f}", "ms", note),
        Row(
            "click ack p50",
            f"{percentile(click_acks, 50) * ms:.1f}",
            "ms",
            f"{clicks} clicks, 10 at a time, {note}",
        ),
        Row("click ack p99", f"{percentile(click_acks, 99) * ms:.1f}", "ms", note),
        Row(
            "click -> message update p50",
            f"{percentile(to_update, 50) * ms:.0f}",
            "ms",
            "updates of one message are coalesced to at most one chat.update a second",
        ),
        Row("click -> message update max", f"{max(to_update) * ms:.0f}", "ms", f"{updates} clicks"),
    ]
