"""Voters you can trust, on the dashboard run for real over a simulated team's closed
comparisons: the Voters page is an admin's alone and lists the always-A voter as flagged; each
voter sees their own figures in the sidebar after 20 votes, and how many more before."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from coderank.evaluation.personal import MIN_OWN_VOTES
from coderank.store import COMPARISONS, open_store
from harness.settings import make_env, make_settings
from tests.dashboard import browser as b
from tests.dashboard.server import running_dashboard
from tests.simulated_team import (
    ALWAYS_A,
    FEW,
    FEW_VOTES,
    HONEST,
    own_counts,
    team_comparisons,
    wilson_text,
)

ADMIN = "U0ADMIN"
ADMIN_PASSWORD = "admins-only-pw"


@dataclass(frozen=True)
class Team:
    url: str
    docs: list[dict[str, Any]]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    tmp = tmp_path_factory.mktemp("team")
    extra = {"CODERANK_ADMINS": ADMIN, "DASHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD}
    docs = team_comparisons()
    store = open_store(make_settings(tmp, **extra))
    try:
        store.upsert_many(COMPARISONS, docs)
    finally:
        store.close()
    with running_dashboard(tmp, make_env(tmp, **extra)) as dashboard:
        yield Team(dashboard.url, docs)


def sign_in(driver: webdriver.Chrome, team: Team, voter: str) -> str:
    driver.get(f"{team.url}/")
    b.type_into(driver, "Your voter id", voter)
    b.click(driver, "Use this id")
    text = b.wait_text(driver, f"Voting as {voter}")
    b.settle(driver)
    return text


def pages(driver: webdriver.Chrome) -> list[str]:
    links = driver.find_elements(By.CSS_SELECTOR, 'a[data-testid="stSidebarNavLink"]')
    return [link.text.strip() for link in links]


def test_the_voters_page_lists_the_flagged_voter_for_an_admin_and_is_absent_for_others(
    team: Team, chromium: webdriver.Chrome
) -> None:
    voter = HONEST[0]
    sign_in(chromium, team, voter)
    assert "Ask and vote" in pages(chromium) and "Voters" not in pages(chromium)
    assert ALWAYS_A not in b.page_text(chromium)
    # Its address typed in (a new session, no admin yet): no such page, nobody's votes.
    chromium.get(f"{team.url}/voters")
    text = b.wait_text(chromium, "Page not found", "Your voter id")
    assert ALWAYS_A not in text and "voters flagged" not in text and "Fisher" not in text

    # An admin's voter id alone is typed, not proven: no page until the admin password.
    text = sign_in(chromium, team, ADMIN)
    assert "Voters" not in pages(chromium) and ALWAYS_A not in text
    b.type_into(chromium, "Admin password (to see flagged voters)", "not-it")
    b.click(chromium, "Unlock")
    b.wait_text(chromium, "Wrong admin password.")
    assert "Voters" not in pages(chromium)
    b.unlock_admin(chromium, ADMIN_PASSWORD)
    assert "Voters" in pages(chromium)
    b.navigate(chromium, "Voters")
    text = b.wait_text(chromium, "voters flagged", ALWAYS_A, timeout_s=40)
    assert "Fisher's method" in text
    rows = b.table_rows(chromium)
    (always_a,) = [r for r in rows if ALWAYS_A in r]
    assert "yes" in always_a and str(len(team.docs)) in always_a  # flagged, on every comparison
    assert rows.index(always_a) < min(i for i, r in enumerate(rows) if "no" in r)  # first
    assert {v for v in (*HONEST, FEW) if any(v in r for r in rows)} == {*HONEST, FEW}


def test_a_voter_sees_their_own_figures_after_twenty_votes_and_before_how_many_more(
    team: Team, chromium: webdriver.Chrome
) -> None:
    voter = HONEST[0]
    sign_in(chromium, team, voter)
    counts = own_counts(team.docs, voter)
    text = b.wait_text(chromium, f"Your own figures ({len(team.docs)} votes on closed comparisons)")
    for name, key in (
        ("agreement with the team's majority (comparisons others voted on too)", "team"),
        ("agreement with the reranker (A-or-B votes for the answer it scored higher)", "reranker"),
        ("position bias (A-or-B votes for the answer shown as A)", "position"),
    ):
        assert f"{name}: {wilson_text(*counts[key])}" in text, name

    text = sign_in(chromium, team, FEW)
    text = b.wait_text(chromium, f"{MIN_OWN_VOTES - FEW_VOTES} more votes to go")
    assert f"({FEW_VOTES} so far)" in text and "Your own figures (" not in text
