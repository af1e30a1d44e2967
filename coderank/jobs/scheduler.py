"""The job scheduler: the only module that imports APScheduler.

Jobs are persisted in a SQLAlchemy job store (``JOBS_URL``, by default an SQLite file beside the
embedded store), so a digest missed while the process was down runs once when it is back (if it
is within ``DIGEST_GRACE_HOURS``), never twice. Vote deadlines are kept with each comparison; a
job closes those past theirs every ``CLOSE_DUE_EVERY_S``, whatever surface started them.

Several processes may share one job store, but APScheduler 3 would then run every job in each of
them. So every process starts its scheduler paused (it can still add jobs), and only the holder of a
lease row in the same database processes jobs; another process takes over when the holder stops
renewing it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import (
    Column,
    Float,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    or_,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from coderank.config import Settings
from coderank.errors import ConfigError

log = logging.getLogger(__name__)

DIGEST_JOB = "digest"
CLOSE_DUE_JOB = "close-due"
CLOSE_DUE_EVERY_S = 30
# The previous version scheduled one job per comparison under this task; such jobs may still be
# in a job store, so the task stays (it closes that comparison).
CLOSE_TASK = "close"
LEASE_NAME = "coderank-jobs"
# Replicas starting together would race on CREATE TABLE (PostgreSQL's catalogue refuses the
# second one even with IF NOT EXISTS checks), so tables are created under this advisory lock.
SETUP_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('coderank-jobs-setup', 0))"

# The tasks of the running process by name. A persisted job keeps only a reference to
# :func:`run_task` and the task's name and arguments; :class:`Jobs` fills this when it starts.
_TASKS: dict[str, Callable[..., Any]] = {}


def run_task(name: str, *args: str) -> None:
    """What every persisted job calls."""
    task = _TASKS.get(name)
    if task is None:
        log.error("no task %r in this process: job skipped", name)
        return
    task(*args)


def digest_trigger(settings: Settings) -> CronTrigger:
    """The digest's cron trigger.

    Raises:
        ConfigError: ``DIGEST_CRON`` has a field APScheduler does not accept.
    """
    try:
        return CronTrigger.from_crontab(settings.digest_cron, timezone=ZoneInfo(settings.digest_tz))
    except ValueError as exc:
        raise ConfigError(f"DIGEST_CRON={settings.digest_cron!r} is not valid: {exc}") from None


def create_tables(engine: Engine, tables: list[Table]) -> None:
    """Create the tables that are missing, one process at a time on PostgreSQL."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(SETUP_LOCK_SQL))
        for table in tables:
            table.create(conn, checkfirst=True)


class Lease:
    """One row in the jobs database says which process runs the jobs, until ``expires_at``."""

    def __init__(
        self, engine: Engine, owner: str, *, ttl_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.owner = owner
        self.ttl_s = ttl_s
        self._engine = engine
        self._clock = clock
        self.table = Table(
            "coderank_job_lease",
            MetaData(),
            Column("name", String(64), primary_key=True),
            Column("owner", String(128), nullable=False),
            Column("expires_at", Float, nullable=False),
        )

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live process holds it."""
        now = self._clock()
        values = {"owner": self.owner, "expires_at": now + self.ttl_s}
        c = self.table.c
        with self._engine.begin() as conn:
            taken = conn.execute(
                update(self.table)
                .where(c.name == LEASE_NAME, or_(c.owner == self.owner, c.expires_at < now))
                .values(**values)
            ).rowcount
        if taken:
            return True
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(self.table).values(name=LEASE_NAME, **values))
        except IntegrityError:
            return False  # another process holds it
        return True

    def release(self) -> None:
        c = self.table.c
        with self._engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(c.name == LEASE_NAME, c.owner == self.owner)
                .values(expires_at=0.0)
            )


class Jobs:
    """The weekly digest and the closing of comparisons past their deadline, persisted, run by
    one process at a time."""

    def __init__(
        self,
        settings: Settings,
        tasks: Mapping[str, Callable[..., Any]],
        *,
        owner: str | None = None,
        lease_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        schedule_digest: bool = True,
    ) -> None:
        self.settings = settings
        self.tasks = dict(tasks)
        self.schedule_digest = schedule_digest
        self._trigger = digest_trigger(settings)
        if settings.jobs_url.startswith("sqlite:///"):
            Path(settings.jobs_url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        self._engine = create_engine(settings.jobs_url)
        self._lease = Lease(
            self._engine, owner or uuid.uuid4().hex[:12], ttl_s=lease_s, clock=clock
        )
        store = SQLAlchemyJobStore(engine=self._engine)
        create_tables(self._engine, [self._lease.table, store.jobs_t])
        self._scheduler = BackgroundScheduler(
            jobstores={"default": store},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=ZoneInfo(settings.digest_tz),
        )
        self._scheduler.add_listener(
            self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
        )
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.owner = False
        self.ran: list[str] = []  # ids of the jobs this process ran
        self.missed: list[str] = []  # ids of the runs skipped as later than their grace time

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.missed.append(event.job_id)
            log.warning(
                "job %s missed its run at %s: later than its grace time",
                event.job_id,
                event.scheduled_run_time,
            )
            return
        self.ran.append(event.job_id)
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            log.error(
                "job %s failed: %s: %s",
                event.job_id,
                type(event.exception).__name__,
                event.exception,
            )

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start paused, set up the digest job, then run jobs whenever this process holds the
        lease (checked every third of its time to live)."""
        _TASKS.update(self.tasks)
        self._scheduler.start(paused=True)
        if self.schedule_digest:
            self._ensure_digest_job()
        # Without a digest channel this process adds no digest job but removes none either:
        # the job store is shared, and another replica's settings may want it.
        self._scheduler.add_job(
            run_task,
            "interval",
            seconds=CLOSE_DUE_EVERY_S,
            args=[CLOSE_DUE_JOB],
            id=CLOSE_DUE_JOB,
            name="close voting past its deadline",
            replace_existing=True,
        )
        self.tick()
        self._renewer = threading.Thread(target=self._renew, name="jobs-lease", daemon=True)
        self._renewer.start()

    def tick(self) -> bool:
        """Take or renew the lease and run due jobs if this process holds it. Returns ownership
        (always False before :meth:`start` and after :meth:`shutdown`)."""
        if not self._scheduler.running:
            return False
        try:
            held = self._lease.acquire()
        except SQLAlchemyError as exc:
            log.warning("jobs lease: %s", type(exc).__name__)
            held = False
        if held and not self.owner:
            log.info("this process now runs the scheduled jobs")
            self._scheduler.resume()
        elif not held and self.owner:
            log.warning("another process took over the scheduled jobs")
            self._scheduler.pause()
        elif held:
            self._scheduler.wakeup()  # jobs added by other processes since the last look
        self.owner = held
        return held

    def _renew(self) -> None:
        while not self._stop.wait(self._lease.ttl_s / 3):
            self.tick()

    def shutdown(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self.owner:
            self._lease.release()
            self.owner = False
        self._engine.dispose()

    # --- jobs -------------------------------------------------------------------------------

    def _ensure_digest_job(self) -> None:
        """Add the digest job, or replace it only if ``DIGEST_CRON``/``DIGEST_TZ`` changed:
        replacing it unchanged would forget a run missed while the bot was down."""
        job = self._scheduler.get_job(DIGEST_JOB)
        wanted = (str(self._trigger), str(self._trigger.timezone))
        if job is not None and (str(job.trigger), str(job.trigger.timezone)) == wanted:
            return
        self._scheduler.add_job(
            run_task,
            self._trigger,
            args=[DIGEST_JOB],
            id=DIGEST_JOB,
            name="weekly digest",
            replace_existing=True,
            misfire_grace_time=int(self.settings.digest_grace_hours * 3600),
        )

    def next_digest(self) -> datetime | None:
        job = self._scheduler.get_job(DIGEST_JOB)
        return job.next_run_time if job is not None else None
