"""The scheduler on a real SQLite job store, driven by a controlled clock (time-machine moves the
wall clock APScheduler reads; the lease gets an injected clock where a test needs two of them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from coderank.config import Settings
from coderank.errors import ConfigError
from coderank.jobs.scheduler import CLOSE_TASK, DIGEST_JOB, Jobs
from tests.conftest import make_settings

SUNDAY_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, tuple[str, ...]]] = []
        self._lock = threading.Lock()

    def tasks(self) -> dict[str, Callable[..., Any]]:
        def record(name: str) -> Callable[..., None]:
            def run(*args: str) -> None:
                with self._lock:
                    self.runs.append((name, args))

            return run

        return {DIGEST_JOB: record(DIGEST_JOB), CLOSE_TASK: record(CLOSE_TASK)}

    def of(self, name: str) -> list[tuple[str, ...]]:
        with self._lock:
            return [args for n, args in self.runs if n == name]

    def wait_for(self, name: str, count: int = 1, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.of(name)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} ran {len(self.of(name))} times, wanted {count}")
            time.sleep(0.02)

    def settle(self) -> None:
        """Give a job that should NOT run the time it would have needed to run."""
        time.sleep(0.5)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, DIGEST_CRON="0 9 * * mon", DIGEST_TZ="UTC")


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(SUNDAY_NOON, tick=False) as traveller:
        yield traveller


def started(settings: Settings, recorder: Recorder, **options: Any) -> Jobs:
    jobs = Jobs(settings, recorder.tasks(), **options)
    jobs.start()
    return jobs


def test_the_weekly_digest_fires_on_its_cron(settings: Settings, clock: Any) -> None:
    recorder = Recorder()
    jobs = started(settings, recorder)
    try:
        assert jobs.owner
        assert jobs.next_digest() == MONDAY_9
        clock.move_to(MONDAY_9 - timedelta(seconds=1))
        jobs.tick()
        recorder.settle()
        assert recorder.of(DIGEST_JOB) == []
        clock.move_to(MONDAY_9 + timedelta(seconds=1))
        jobs.tick()
        recorder.wait_for(DIGEST_JOB)
        assert jobs.next_digest() == MONDAY_9 + timedelta(days=7)
    finally:
        jobs.shutdown()
    assert len(recorder.of(DIGEST_JOB)) == 1


def test_a_digest_missed_while_down_runs_once_after_restart(settings: Settings, clock: Any) -> None:
    recorder = Recorder()
    started(settings, recorder).shutdown()
    clock.move_to(MONDAY_9 + timedelta(hours=3))  # the bot was down at 09:00
    jobs = started(settings, recorder)
    recorder.wait_for(DIGEST_JOB)
    jobs.shutdown()
    jobs = started(settings, recorder)  # and again: it must not run twice
    recorder.settle()
    jobs.shutdown()
    assert len(recorder.of(DIGEST_JOB)) == 1


def test_a_digest_missed_beyond_the_grace_time_is_skipped(settings: Settings, clock: Any) -> None:
    recorder = Recorder()
    started(settings, recorder).shutdown()
    clock.move_to(MONDAY_9 + timedelta(hours=13))  # grace is 12 hours
    jobs = started(settings, recorder)
    recorder.settle()
    try:
        assert recorder.of(DIGEST_JOB) == []
        assert jobs.next_digest() == MONDAY_9 + timedelta(days=7)
    finally:
        jobs.shutdown()


def test_a_vote_deadline_survives_a_restart(settings: Settings, clock: Any) -> None:
    recorder = Recorder()
    jobs = started(settings, recorder)
    deadline = jobs.deadline_after(SUNDAY_NOON)
    assert deadline == SUNDAY_NOON + timedelta(hours=24)
    jobs.schedule_close("c1", at=deadline)
    jobs.schedule_close("c2", at=deadline + timedelta(hours=5))
    jobs.shutdown()
    clock.move_to(deadline + timedelta(hours=1))  # past c1's deadline while down
    jobs = started(settings, recorder)
    try:
        recorder.wait_for(CLOSE_TASK)
        recorder.settle()
        assert recorder.of(CLOSE_TASK) == [("c1",)]
        assert jobs.close_deadline("c1") is None
        assert jobs.close_deadline("c2") == deadline + timedelta(hours=5)
    finally:
        jobs.shutdown()


def test_no_deadline_when_the_window_is_zero(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, VOTE_WINDOW_HOURS="0")
    jobs = Jobs(settings, {})
    assert jobs.deadline_after(SUNDAY_NOON) is None


def test_two_processes_sharing_the_job_store_run_each_job_once(
    settings: Settings, clock: Any
) -> None:
    recorder = Recorder()  # both "processes" have the same tasks, as replicas of one bot do
    a = started(settings, recorder, owner="replica-a")
    b = started(settings, recorder, owner="replica-b")
    try:
        assert (a.owner, b.owner) == (True, False)
        b.schedule_close("c9", at=SUNDAY_NOON + timedelta(hours=1))  # added by the non-owner
        clock.move_to(MONDAY_9 + timedelta(seconds=1))
        a.tick()
        b.tick()
        recorder.wait_for(DIGEST_JOB)
        recorder.wait_for(CLOSE_TASK)
        recorder.settle()
        assert recorder.of(DIGEST_JOB) == [()] and recorder.of(CLOSE_TASK) == [("c9",)]
        assert sorted(a.ran) == ["close:c9", DIGEST_JOB] and b.ran == []
        a.shutdown()  # the owner stops: the other takes over at its next look
        assert b.tick()
    finally:
        a.shutdown()
        b.shutdown()


def test_a_replica_takes_over_when_the_owner_stops_renewing(settings: Settings) -> None:
    now = [1000.0]
    a = Jobs(settings, {}, owner="a", lease_s=30, clock=lambda: now[0])
    b = Jobs(settings, {}, owner="b", lease_s=30, clock=lambda: now[0])
    a.start()
    b.start()
    try:
        assert a.owner and not b.owner
        now[0] += 20
        assert a.tick() and not b.tick()  # renewed in time
        now[0] += 31  # a is stuck: its lease runs out
        assert b.tick()
        assert not a.tick()  # a notices and stops running jobs
    finally:
        a.shutdown()
        b.shutdown()


def test_a_cron_apscheduler_refuses_stops_start_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, DIGEST_CRON="0 25 * * mon")
    with pytest.raises(ConfigError, match="DIGEST_CRON='0 25 \\* \\* mon' is not valid"):
        Jobs(settings, {})
