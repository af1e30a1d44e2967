"""The App Home tab's reads and its publication (``views.publish``), and the Home's fine-tune
button."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from bot.blocks.home import home_view
from bot.finetune import start_finetune
from bot.services import BotServices
from coderank.errors import ModelError
from coderank.evaluation.pairs import judged_pairs
from coderank.evaluation.personal import figures_of
from coderank.evaluation.report import EvalReport, closed_between, report_of, without_voters
from coderank.evaluation.voters import VoterChecks, check_voters
from coderank.finetune.run import last_runs
from coderank.overview import read_user_overview
from coderank.store import Document, Window

log = logging.getLogger(__name__)


def fingerprint(closed: Sequence[Mapping[str, Any]]) -> str:
    """Which closed comparisons these are, as they were last written."""
    digest = hashlib.sha256()
    for key in sorted(
        f"{d.get('comparison_id')}|{d.get('closed_at')}|{d.get('updated_at')}" for d in closed
    ):
        digest.update(key.encode() + b"\n")
    return f"{len(closed)}:{digest.hexdigest()}"


@dataclass(frozen=True)
class ClosedFigures:
    """What the Home tabs show of every closed comparison: the team's evaluation (flagged voters
    left out under ``FLAGGED_VOTERS=exclude``) and every voter's record and tests (a voter sees
    their own record; admins see who is flagged)."""

    report: EvalReport
    checks: VoterChecks


def closed_figures(closed: list[Document], *, policy: str) -> ClosedFigures:
    """The figures of ``closed`` (``comparisons`` documents): the votes are read into judged pairs
    once, checked once, and evaluated again only if flagged voters are left out."""
    pairs = judged_pairs(closed)
    checks = check_voters(pairs)
    without = checks.flagged if policy == "exclude" else frozenset()
    team = judged_pairs(without_voters(closed, without)) if without else pairs
    return ClosedFigures(report_of(team), checks)


class TeamFigures:
    """The figures over every closed comparison that each Home tab shows, computed again only
    when the closed comparisons changed: they take about a second (the Bradley-Terry bootstrap),
    and Home tabs are opened far more often than votes close."""

    def __init__(self, *, policy: str) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._key: str | None = None
        self._figures: ClosedFigures | None = None

    def of(self, closed: list[Document]) -> ClosedFigures:
        key = fingerprint(closed)
        with self._lock:  # opened at once by many: evaluated once
            if self._figures is None or key != self._key:
                self._figures, self._key = closed_figures(closed, policy=self.policy), key
            return self._figures


class HomeTabs:
    """Builds and publishes each person's Home tab from the store."""

    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.figures = TeamFigures(policy=services.core_settings.flagged_voters)

    def view(self, user: str, *, notice: str | None = None) -> dict[str, Any]:
        """``user``'s Home view: the closed comparisons are read once, for their own figures and
        for the team's; an admin also gets the fine-tunes and the flagged voters."""
        store = self.services.store
        closed = list(closed_between(store, Window()))
        figures = self.figures.of(closed)
        try:
            model = self.services.reranker_model
        except ModelError as exc:  # a promoted model this machine cannot see
            model = f"unavailable ({exc})"
        admin = self.services.is_admin(user)
        return home_view(
            read_user_overview(store, user, closed=closed),
            reranker=model,
            report=figures.report,
            updated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            own=figures_of(user, figures.checks.record(user)),
            runs=last_runs(store) if admin else None,
            voters=figures.checks if admin else None,
            notice=notice,
        )

    def publish(self, client: WebClient, user: str, *, notice: str | None = None) -> None:
        client.views_publish(user_id=user, view=self.view(user, notice=notice))

    def finetune_clicked(self, client: WebClient, user: str) -> None:
        """The Home's button: the rules of ``/coderank-admin finetune`` (admins only, one at a
        time); the clicker's Home then says what happened."""
        notice = start_finetune(self.services, client, by=user)
        if not self.services.is_admin(user):  # the button is shown to admins only: forged
            log.warning("refused a fine-tune asked for from the App Home by a non-admin")
        self.publish(client, user, notice=notice)
