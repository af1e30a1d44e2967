"""What every page of one dashboard process shares: the settings, the services (store, graph,
``Comparisons``) and the generations asked from the page. Built once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TextIO

from coderank.config import Settings
from coderank.logs import setup_logging
from coderank.services import Services, build_services
from dashboard.asking import Asks
from dashboard.config import DashboardSettings


@dataclass(frozen=True)
class Context:
    settings: Settings
    dashboard: DashboardSettings
    services: Services
    asks: Asks

    def is_admin(self, voter: str | None) -> bool:
        """Admins (CODERANK_ADMINS) see who voted what and may close any vote."""
        return voter is not None and voter in self.dashboard.admins


def build_context(settings: Settings, dashboard: DashboardSettings) -> Context:
    """Settings -> services -> the page's generations. Loads no model: the agents and the
    reranker load at the first problem asked here.

    Raises:
        CoderankError: a store that cannot be opened.
    """
    services = build_services(settings)
    return Context(settings, dashboard, services, Asks(services))


def start_logging(
    settings: Settings, dashboard: DashboardSettings, *, stream: TextIO | None = None
) -> logging.Handler:
    """The page's own log lines (a failed generation's traceback, say) in LOG_FORMAT on stderr,
    with every secret of either kind of settings scrubbed, as the bot and the command line log.
    Once per process, before anything is served."""
    return setup_logging(
        log_format=settings.log_format,
        secrets=(*settings.secrets(), *dashboard.secrets()),
        stream=stream,
    )
