"""One browser for the session, and per module one dashboard over a store filled with synthetic
comparisons (``synthetic.fill``). ``CODERANK_SCREENSHOTS=1`` saves a picture of each page in
docs/screenshots/ (as they are in the README)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver

from coderank.config import Settings
from harness.settings import ROOT, make_env, make_settings
from tests.dashboard.browser import screenshot, start_chromium
from tests.dashboard.server import running_dashboard
from tests.dashboard.synthetic import ADMIN, ADMIN_PASSWORD, Filled, fill

SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = start_chromium()
    yield driver
    driver.quit()


@dataclass(frozen=True)
class Site:
    url: str
    tmp: Path
    env: dict[str, str]
    settings: Settings
    filled: Filled


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("site")
    extra = {
        "VOTE_QUORUM": "0",
        "VOTE_WINDOW_HOURS": "0",
        "CODERANK_ADMINS": ADMIN,
        "DASHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    settings = make_settings(tmp, **extra)
    filled = fill(settings)
    env = make_env(tmp, **extra)
    with running_dashboard(tmp, env) as dashboard:
        yield Site(dashboard.url, tmp, env, settings, filled)


class Shots:
    """Saves pictures of pages when CODERANK_SCREENSHOTS is set (they are committed)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def take(self, driver: webdriver.Chrome, name: str, *, height: int = 1500) -> None:
        if self.folder is not None:
            screenshot(driver, self.folder / f"{name}.png", height=height)


@pytest.fixture(scope="session")
def shots() -> Shots:
    return Shots(SCREENSHOTS if os.environ.get("CODERANK_SCREENSHOTS") else None)
