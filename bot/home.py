"""The App Home tab's reads and its publication (``views.publish``), and the Home's fine-tune
button."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from bot.blocks.home import home_view
from bot.finetune import start_finetune
from bot.services import BotServices
from coderank.errors import ModelError
from coderank.evaluation.report import (
    EvalReport,
    closed_between,
    evaluate,
    excluded_voters,
    without_voters,
)
from coderank.finetune.run import last_runs
from coderank.overview import read_user_overview
from coderank.store import Window

log = logging.getLogger(__name__)


def fingerprint(closed: Sequence[Mapping[str, Any]]) -> str:
    """Which closed comparisons these are, as they were last written."""
    digest = hashlib.sha256()
    for key in sorted(
        f"{d.get('comparison_id')}|{d.get('closed_at')}|{d.get('updated_at')}" for d in closed
    ):
        digest.update(key.encode() + b"\n")
    return f"{len(closed)}:{digest.hexdigest()}"


class TeamFigures:
    """The evaluation over every closed comparison that each Home tab shows, computed again only
    when the closed comparisons changed: it takes about a second (the Bradley-Terry bootstrap),
    and Home tabs are opened far more often than votes close."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: str | None = None
        self._report: EvalReport | None = None

    def report(self, closed: Sequence[Mapping[str, Any]]) -> EvalReport:
        key = fingerprint(closed)
        with self._lock:  # opened at once by many: evaluated once
            if self._report is None or key != self._key:
                self._report, self._key = evaluate(closed), key
            return self._report


class HomeTabs:
    """Builds and publishes each person's Home tab from the store."""

    def __init__(self, services: BotServices) -> None:
        self.services = services
        self.figures = TeamFigures()

    def view(self, user: str, *, notice: str | None = None) -> dict[str, Any]:
        """``user``'s Home view: the closed comparisons are read once, for their own figures and
        for the team's."""
        store = self.services.store
        closed = list(closed_between(store, Window()))
        without = excluded_voters(store, self.services.core_settings.flagged_voters)
        team = list(without_voters(closed, without)) if without else closed
        try:
            model = self.services.reranker_model
        except ModelError as exc:  # a promoted model this machine cannot see
            model = f"unavailable ({exc})"
        admin = self.services.is_admin(user)
        return home_view(
            read_user_overview(store, user, closed=closed),
            reranker=model,
            report=self.figures.report(team),
            updated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            runs=last_runs(store) if admin else None,
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
