"""The dashboard run for real (``python -m dashboard`` on a free loopback port) over a store of
synthetic comparisons, driven in Debian's headless Chromium."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver

from coderank.agents.prompts import AGENTS
from coderank.evaluation.formatting import report_rows
from coderank.evaluation.report import closed_between, evaluate
from coderank.overview import from_surface
from coderank.services import Services, build_services
from coderank.store import COLLECTIONS, FEEDBACK, Window, open_store
from harness.fakes import LengthReranker
from harness.settings import ROOT
from tests.dashboard import browser as b
from tests.dashboard.conftest import Shots, Site
from tests.dashboard.synthetic import ADMIN, ADMIN_PASSWORD, CODE, TEAM, ScriptedAgent


@pytest.fixture
def elsewhere(site: Site) -> Iterator[Services]:
    """The same store and checkpoints as the page, through ``Comparisons``, as the Slack bot and
    the command line reach them from their own processes."""
    services = build_services(
        site.settings,
        agents={name: ScriptedAgent(name) for name in AGENTS},
        reranker=LengthReranker(),
        rng=random.Random(1),
    )
    yield services
    services.close()


def sign_in_as(driver: webdriver.Chrome, site: Site, voter: str, query: str = "") -> None:
    driver.get(f"{site.url}/{query}")
    b.type_into(driver, "Your voter id", voter)
    b.click(driver, "Use this id")
    b.wait_text(driver, f"Voting as {voter}")


def table_cells(driver: webdriver.Chrome) -> dict[str, str]:
    """First column -> second column of every static table on the page."""
    cells = {}
    for row in b.table_rows(driver):
        texts = [t for t in row if t]
        if len(texts) >= 2:
            cells[texts[0]] = texts[1]
    return cells


def shows_figures(
    driver: webdriver.Chrome, expected: dict[str, str], *, timeout_s: float = 30
) -> None:
    """Wait until the page's tables hold every figure of ``expected``; a difference left after
    ``timeout_s`` fails, naming the figure (the tables redraw after each choice)."""
    try:
        b.wait_for(
            driver,
            lambda _: all(table_cells(driver).get(k) == v for k, v in expected.items()),
            timeout_s=timeout_s,
            what="the figures",
        )
    except AssertionError:
        shown = table_cells(driver)
        for name, value in expected.items():
            assert shown.get(name) == value, name
        raise


def evaluate_reranker(site: Site, *args: str) -> subprocess.Popen[str]:
    """``scripts/evaluate_reranker.py`` started on the same store (it runs while the browser
    works)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "evaluate_reranker.py"), *args],
        cwd=site.tmp,
        env={**os.environ, **site.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def printed(run: subprocess.Popen[str]) -> dict[str, str]:
    """The script's table, as name -> value."""
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    rows = [re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines()]
    return {r[0]: r[1] for r in rows if len(r) == 2}


def test_the_evaluation_page_shows_what_evaluate_reranker_prints(
    site: Site, chromium: webdriver.Chrome, shots: Shots
) -> None:
    script = evaluate_reranker(site)  # runs while the page loads
    chromium.get(f"{site.url}/evaluation")
    figures = printed(script)
    assert int(figures["pairs evaluated"].split()[0]) >= 50  # the synthetic weeks
    shows_figures(chromium, figures, timeout_s=40)
    text = b.wait_text(chromium, "Every figure", "Agents", "Over time")
    assert "The figures python scripts/evaluate_reranker.py prints" in text
    accuracy = figures["accuracy"].split()[0]
    assert f"Reranker accuracy\n\n{accuracy}" in text  # the headline too
    shots.take(chromium, "evaluation", height=1700)


def test_the_evaluation_page_filters_by_dates_surface_and_channel(
    site: Site, chromium: webdriver.Chrome
) -> None:
    # The page's inclusive "to" is the script's first day left out (--until); the script reads
    # the same window with closed_between and evaluate (above, the two agree).
    since, until = "2026-10-05", "2026-11-02"
    store = open_store(site.settings)
    try:
        closed = list(closed_between(store, Window(since, until)))
    finally:
        store.close()
    chromium.get(f"{site.url}/evaluation?from=2026-10-05&to=2026-11-01")
    expected = dict(report_rows(evaluate(closed, since=since, until=until)))
    assert expected["window"] == "2026-10-05 to 2026-11-02"
    assert expected["accuracy"] != "n/a (n=0)"
    shows_figures(chromium, expected, timeout_s=40)
    b.wait_text(chromium, f"evaluate_reranker.py --since {since} --until {until}")
    for picked, docs in (
        ("cli", from_surface(closed, source="cli")),
        (f"#{TEAM}", from_surface(closed, channel=TEAM)),
    ):
        b.choose(chromium, "Surface or channel", picked)
        shows_figures(chromium, dict(report_rows(evaluate(docs, since=since, until=until))))
        assert "The figures python scripts" not in b.page_text(chromium)  # no script does that


def _snapshot(site: Site) -> dict[str, list[dict[str, Any]]]:
    store = open_store(site.settings)
    try:
        return {name: sorted(store.find(name), key=lambda d: str(d["_id"])) for name in COLLECTIONS}
    finally:
        store.close()


def test_who_voted_what_is_shown_to_admins_only_and_reading_writes_nothing(
    site: Site, chromium: webdriver.Chrome, shots: Shots
) -> None:
    before = _snapshot(site)
    closed, still_open = site.filled.closed_slack, site.filled.open_slack
    # An admin's voter id is typed, not proven: who voted what needs the admin password too.
    for voter, sees in (("U0ALICE", False), (ADMIN, False), (ADMIN, True)):
        sign_in_as(chromium, site, voter)
        if sees:
            b.unlock_admin(chromium, ADMIN_PASSWORD)
        b.navigate(chromium, "Comparisons")
        b.choose(chromium, "Open a comparison", closed)
        marker = "U0CAROL" if sees else "Shown to admins only"
        b.wait_text(chromium, f"Comparison {closed}", "Outcome: A. The reranker agreed.", marker)
        b.settle(chromium)
        text = b.page_text(chromium)
        assert "Write a function is_prime(n)" in text
        assert ("Explainer (shown as A)" in text) and ("Optimizer (shown as B)" in text)
        assert "Reranker scores (fake-length-reranker)" in text
        assert ("U0CAROL" in text) is sees  # she voted B; only her vote names her
        assert ("Shown to admins only" in text) is not sees
        if sees:
            assert table_cells(chromium)["U0CAROL"] == "B is better"
            shots.take(chromium, "comparisons", height=1700)
    # An open comparison is blind here too.
    b.choose(chromium, "Open a comparison", still_open)
    text = b.wait_text(chromium, f"Comparison {still_open}", "Voting is open")
    assert "Reranker scores" not in text and "shown as A" not in text
    # The other pages, read as an admin: the store is as it was.
    for page, ready in (("Evaluation", "Every figure"), ("Fine-tunes", "Runs")):
        b.navigate(chromium, page)
        b.wait_text(chromium, ready, timeout_s=40)
        b.settle(chromium)
    assert _snapshot(site) == before


def test_the_fine_tunes_page(site: Site, chromium: webdriver.Chrome, shots: Shots) -> None:
    chromium.get(f"{site.url}/fine-tunes")
    text = b.wait_text(chromium, "Reranker in use:", "Runs", "promoted: better held-out accuracy")
    assert "reranker-ft/slack-20261101-090000" in text.split("Runs")[0]  # the promoted one
    assert "held-out accuracy 56.0% before, 68.0% after" in text
    rows = b.table_rows(chromium)
    assert [(r[2], r[4], r[5], r[6]) for r in rows] == [
        ("50", "68.0%", "64.0%", "no"),
        ("40", "56.0%", "68.0%", "yes"),
    ]
    shots.take(chromium, "fine-tunes", height=800)


def test_a_comparison_opened_in_slack_is_voted_on_here_and_the_other_way_round(
    site: Site, chromium: webdriver.Chrome, elsewhere: Services, shots: Shots
) -> None:
    slack = elsewhere.comparisons.start(
        next(iter(CODE)),
        requester="U0BOB",
        source="slack",
        surface={"channel": TEAM, "ts": "1764000000.000900"},
    )
    cid = slack.comparison_id
    sign_in_as(chromium, site, "U0DANA")
    b.choose(chromium, "Vote on an open comparison", cid)
    text = b.wait_text(chromium, "Which answer is better?", "0 voter(s) so far", "closes voting.")
    assert "U0BOB (who asked) or an admin closes voting." in text
    assert "Close voting and reveal" not in text
    for agent in ("Concise Fixer", "Explainer", "Optimizer", "score"):
        assert agent not in text.split("Which answer is better?")[1]  # blind
    shots.take(chromium, "ask")
    b.click(chromium, "B is better")
    b.wait_text(chromium, "Your vote (B) is recorded; 1 voter(s) so far.")
    assert elsewhere.comparisons.get(cid).votes == {"U0DANA": "B"}
    vote = elsewhere.store.get(FEEDBACK, f"{cid}:U0DANA")
    assert vote is not None and (vote["choice"], vote["source"]) == ("B", "slack")

    # A vote from Slack (its listener calls the same Comparisons) and a change of vote here.
    elsewhere.comparisons.vote(cid, user="U0ERIN", choice="A")
    b.settle(chromium)  # a click while the page still runs its last vote can be dropped
    b.click(chromium, "A is better")
    b.wait_text(chromium, "Your vote (A) is recorded; 2 voter(s) so far.")
    assert elsewhere.comparisons.get(cid).votes == {"U0DANA": "A", "U0ERIN": "A"}

    # An admin closes it here; the reveal.
    sign_in_as(chromium, site, ADMIN, f"?comparison={cid}")
    b.click(chromium, "Close voting and reveal")
    text = b.wait_text(chromium, "Voting closed.", "Outcome: A.")
    assert re.search(r"Answer A was written by (Concise Fixer|Explainer|Optimizer)", text)
    closed = elsewhere.comparisons.get(cid)
    assert (closed.status, closed.closed_by, closed.closed_how) == ("closed", ADMIN, "admin")
