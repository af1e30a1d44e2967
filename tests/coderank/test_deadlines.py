"""The voting deadline lives with the comparison: set when voting opens, whatever surface started
it; a vote after it closes the comparison instead; ``close_due`` closes the ones past it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coderank.errors import VotingClosedError
from coderank.services import Services, build_services
from coderank.store import COMPARISONS
from harness.fakes import LengthReranker, fake_agents
from harness.settings import make_settings

START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def services_with(tmp_path: Path, clock: Clock, hours: str) -> Services:
    settings = make_settings(tmp_path, VOTE_QUORUM="0", VOTE_WINDOW_HOURS=hours)
    return build_services(settings, agents=fake_agents(), reranker=LengthReranker(), clock=clock)


@pytest.fixture
def services(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    built = services_with(tmp_path, clock, "2")
    yield built
    built.close()


def test_the_deadline_is_set_when_voting_opens_and_stored(services: Services) -> None:
    comparison = services.comparisons.start("Write f", requester="cli:alice", source="cli")
    assert comparison.deadline == (START + timedelta(hours=2)).isoformat(timespec="milliseconds")
    assert services.store.get(COMPARISONS, comparison.comparison_id)["deadline"] == (
        comparison.deadline
    )


def test_a_vote_after_the_deadline_closes_the_comparison_instead(
    services: Services, clock: Clock
) -> None:
    cid = services.comparisons.start("Write f", requester="a", source="cli").comparison_id
    services.comparisons.vote(cid, user="bob", choice="A")
    clock.now = START + timedelta(hours=2)  # the deadline itself: closed
    with pytest.raises(VotingClosedError) as refused:
        services.comparisons.vote(cid, user="carol", choice="B")
    closed = refused.value.comparison
    assert closed is not None and closed.closed_how == "deadline" and closed.votes == {"bob": "A"}
    stored = services.store.get(COMPARISONS, cid)
    assert (stored["status"], stored["closed_how"], stored["majority"]) == (
        "closed",
        "deadline",
        "A",
    )
    with pytest.raises(VotingClosedError) as again:  # later votes: closed, nothing new to show
        services.comparisons.vote(cid, user="dave", choice="B")
    assert again.value.comparison is None


def test_close_due_closes_exactly_the_comparisons_past_their_deadline(
    services: Services, clock: Clock
) -> None:
    early = services.comparisons.start("Write f", requester="a", source="cli").comparison_id
    clock.now = START + timedelta(hours=1)
    late = services.comparisons.start("Write g", requester="a", source="slack").comparison_id
    closed_by_hand = services.comparisons.start("Write h", requester="a", source="cli")
    services.comparisons.close(closed_by_hand.comparison_id, user="a")

    clock.now = START + timedelta(hours=2, minutes=30)
    assert [c.comparison_id for c in services.comparisons.close_due()] == [early]
    assert services.comparisons.get(late).voting
    assert services.comparisons.get(closed_by_hand.comparison_id).closed_how == "requester"
    assert services.comparisons.close_due() == []  # nothing twice

    clock.now = START + timedelta(hours=3, minutes=1)
    assert [c.comparison_id for c in services.comparisons.close_due()] == [late]


def test_no_deadline_when_the_window_is_zero(tmp_path: Path, clock: Clock) -> None:
    services = services_with(tmp_path, clock, "0")
    try:
        comparison = services.comparisons.start("Write f", requester="a", source="cli")
        assert comparison.deadline is None
        clock.now = START + timedelta(days=400)
        assert services.comparisons.close_due() == []
        assert services.comparisons.vote(comparison.comparison_id, user="b", choice="A").changed
    finally:
        services.close()
