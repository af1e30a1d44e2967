"""The scheduler on a real SQLite job store, driven by a controlled clock (time-machine moves the
wall clock APScheduler reads; the lease gets an injected clock where a test needs two of them).
Two replicas in processes of their own (``tests/jobs_process.py``) run on the real clock."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from coderank.config import Settings, from_env
from coderank.errors import ConfigError
from coderank.jobs.scheduler import (
    CLOSE_DUE_EVERY_S,
    CLOSE_DUE_JOB,
    CLOSE_TASK,
    DIGEST_JOB,
    Jobs,
    digest_trigger,
    run_task,
)
from harness.settings import make_env, make_settings
from tests.jobs_process import JobsProcess

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

        return {
            DIGEST_JOB: record(DIGEST_JOB),
            CLOSE_TASK: record(CLOSE_TASK),
            CLOSE_DUE_JOB: record(CLOSE_DUE_JOB),
        }

    def of(self, name: str) -> list[tuple[str, ...]]:
        with self._lock:
            return [args for n, args in self.runs if n == name]

    def wait_for(self, name: str, count: int = 1, timeout_s: float = 10) -> None:
        wait_until(lambda: len(self.of(name)) >= count, f"{name} ran {count} times", timeout_s)


def wait_until(done: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


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
        # Not due yet: still scheduled for 09:00 (a run would have moved it to next week).
        assert jobs.next_digest() == MONDAY_9 and recorder.of(DIGEST_JOB) == []
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
    try:
        # Rescheduled for next week when it ran: nothing is due at this start.
        assert jobs.next_digest() == MONDAY_9 + timedelta(days=7)
    finally:
        jobs.shutdown()
    assert len(recorder.of(DIGEST_JOB)) == 1


def test_a_digest_missed_beyond_the_grace_time_is_skipped(settings: Settings, clock: Any) -> None:
    recorder = Recorder()
    started(settings, recorder).shutdown()
    clock.move_to(MONDAY_9 + timedelta(hours=13))  # grace is 12 hours
    jobs = started(settings, recorder)
    try:
        wait_until(lambda: DIGEST_JOB in jobs.missed, "the late digest is skipped as missed")
        assert recorder.of(DIGEST_JOB) == []
        assert jobs.next_digest() == MONDAY_9 + timedelta(days=7)
    finally:
        jobs.shutdown()


def test_a_deadline_job_of_the_previous_version_still_closes_its_comparison(
    settings: Settings, clock: Any
) -> None:
    """The previous version kept one job per comparison's deadline; such jobs run as before."""
    Path(settings.jobs_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    old = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=settings.jobs_url)})
    old.start(paused=True)
    old.add_job(
        run_task, "date", run_date=SUNDAY_NOON + timedelta(hours=1), args=[CLOSE_TASK, "c1"],
        id=f"{CLOSE_TASK}:c1", misfire_grace_time=None,
    )  # fmt: skip
    old.shutdown()
    clock.move_to(SUNDAY_NOON + timedelta(hours=2))
    recorder = Recorder()
    jobs = started(settings, recorder)
    try:
        recorder.wait_for(CLOSE_TASK)
        assert recorder.of(CLOSE_TASK) == [("c1",)]
    finally:
        jobs.shutdown()


def test_the_closing_job_runs_every_half_minute_in_the_owner(
    settings: Settings, clock: Any
) -> None:
    recorder = Recorder()
    jobs = started(settings, recorder)
    try:
        for step in (1, 2):
            clock.move_to(SUNDAY_NOON + timedelta(seconds=CLOSE_DUE_EVERY_S * step + 1))
            jobs.tick()
            recorder.wait_for(CLOSE_DUE_JOB, count=step)
    finally:
        jobs.shutdown()


def test_two_replicas_sharing_the_job_store_run_each_job_once(
    settings: Settings, clock: Any
) -> None:
    recorder = Recorder()  # both have the same tasks, as replicas of one bot do
    a = started(settings, recorder, owner="replica-a")
    b = started(settings, recorder, owner="replica-b")
    try:
        assert (a.owner, b.owner) == (True, False)
        clock.move_to(MONDAY_9 + timedelta(seconds=1))
        a.tick()
        b.tick()
        recorder.wait_for(DIGEST_JOB)
        wait_until(lambda: DIGEST_JOB in a.ran, "the owner records its digest run")
        assert recorder.of(DIGEST_JOB) == [()] and DIGEST_JOB not in b.ran
        # APScheduler starts a job, then records its next run: the job may end before that.
        wait_until(lambda: b.next_digest() != MONDAY_9, "the owner records the next digest")
        assert b.next_digest() == MONDAY_9 + timedelta(days=7)  # one job, run once, for both
        a.shutdown()  # the owner stops: the other takes over at its next look
        assert b.tick()
    finally:
        a.shutdown()
        b.shutdown()


def add_due_job(settings: Settings, job_id: str, trigger: Any, *args: str, **options: Any) -> None:
    """Put a job in the job store as another process did earlier, due a second ago.

    It is added an hour before by this process's clock: a paused APScheduler still processes
    the jobs due when it shuts down, and this one must leave the job for the replicas."""
    due = datetime.now(UTC) - timedelta(seconds=1)
    Path(settings.jobs_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(due - timedelta(hours=1), tick=False):
        other = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=settings.jobs_url)}, timezone=UTC
        )
        other.start(paused=True)
        other.add_job(
            run_task, trigger, args=list(args), id=job_id, next_run_time=due,
            replace_existing=True, **options,
        )  # fmt: skip
        other.shutdown()


def next_run(settings: Settings, job_id: str) -> float | None:
    """When the job store says ``job_id`` runs next (a Unix time), read from the database."""
    path = settings.jobs_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        row = conn.execute(
            "SELECT next_run_time FROM apscheduler_jobs WHERE id = ?", (job_id,)
        ).fetchone()
    return row[0] if row else None


def test_two_processes_sharing_the_job_store_run_a_due_digest_once_and_take_over(
    tmp_path: Path,
) -> None:
    """The real thing: two replicas in processes of their own, the owner killed with SIGKILL."""
    lease_s = 2.0
    env = make_env(tmp_path, DIGEST_CRON="0 9 * * mon", DIGEST_TZ="UTC")
    settings = from_env(env, env_file=None)
    # An earlier run left the job store (its tables made) and the weekly digest, missed a moment
    # ago (well within its grace time): due when the two start.
    Jobs(settings, {}).shutdown()
    grace_s = int(settings.digest_grace_hours * 3600)
    trigger = digest_trigger(settings)
    add_due_job(settings, DIGEST_JOB, trigger, DIGEST_JOB, misfire_grace_time=grace_s)
    ran = tmp_path / "ran.txt"

    def lines() -> list[str]:
        return ran.read_text().splitlines() if ran.exists() else []

    with (
        JobsProcess(env, "replica-a", lease_s=lease_s, ran=ran) as a,
        JobsProcess(env, "replica-b", lease_s=lease_s, ran=ran) as b,
    ):
        assert (a.next_line(), b.next_line()) == ("ready", "ready")
        a.tell("go")
        b.tell("go")
        first = {p.name: p.next_line() for p in (a, b)}
        assert sorted(first.values()) == ["owner False", "owner True"], first
        owner, other = (a, b) if first[a.name] == "owner True" else (b, a)
        wait_until(lambda: lines() != [], "the digest has run")
        assert lines() == [f"{DIGEST_JOB} {owner.name}"]
        wait_until(  # the owner has recorded the run: the next one (next week's) is to come
            lambda: (next_run(settings, DIGEST_JOB) or 0) > time.time(),
            "the digest is rescheduled for next week",
        )

        killed = time.monotonic()
        owner.kill()  # SIGKILL: it never gives its lease back
        assert other.next_line(timeout_s=lease_s * 5) == "owner True"
        took = time.monotonic() - killed
        # The lease it last renewed (at most a third of its time before) runs out, and the other
        # takes it at its next look (every third of the lease time): 1.3 to 2.7 s after the kill,
        # later on a loaded machine; never at once.
        assert lease_s / 2 < took < lease_s * 3, took

        # The new owner runs what comes due, and the digest already run is not run again.
        add_due_job(
            settings,
            f"{CLOSE_TASK}:c1",
            DateTrigger(datetime.now(UTC)),
            CLOSE_TASK,
            "c1",
            misfire_grace_time=None,
        )
        wait_until(lambda: len(lines()) == 2, "the new owner runs a job that is due")
        other.tell("stop")
        assert other.next_line() == "stopped"
        assert other.process.wait(timeout=20) == 0
    assert lines() == [f"{DIGEST_JOB} {owner.name}", f"{CLOSE_TASK} c1 {other.name}"]


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


def test_replicas_starting_together_on_postgres_all_start(
    tmp_path: Path, database_url: str
) -> None:
    # Seen in CI: two replicas started at once, one died creating the lease table
    # (UniqueViolation on pg_type: CREATE TABLE raced past the existence check).
    jobs_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    settings = make_settings(tmp_path, JOBS_URL=jobs_url)
    barrier = threading.Barrier(6)
    started_jobs: list[Jobs] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            jobs = Jobs(settings, Recorder().tasks(), schedule_digest=False)
            jobs.start()
            started_jobs.append(jobs)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sum(jobs.owner for jobs in started_jobs) == 1
    finally:
        for jobs in started_jobs:
            jobs.shutdown()
