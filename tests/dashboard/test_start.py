"""Start-up: the dashboard refuses to serve beyond this machine without a password, and with a
password it shows nothing before it is given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from selenium import webdriver

from harness.servers import free_port, wait_http
from harness.settings import ROOT, make_env
from tests.dashboard import browser as b
from tests.dashboard.server import dashboard_env, running_dashboard


def launch(tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard"],
        cwd=tmp,
        env=dashboard_env({**make_env(tmp), **env}, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_another_host_without_a_password_stops_start_up_with_one_line(
    tmp_path: Path, host: str
) -> None:
    done = launch(tmp_path, DASHBOARD_HOST=host)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: DASHBOARD_HOST={host!r} serves the dashboard beyond this machine: set "
        "DASHBOARD_PASSWORD as well (or DASHBOARD_HOST=127.0.0.1)\n"
    )
    assert done.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing opened


def test_a_wrong_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    done = launch(tmp_path, STORE="mongo", DASHBOARD_PASSWORD="s3cret-value")
    assert done.returncode == 2
    assert done.stderr == "error: STORE='mongo' is not valid: expected one of sqlite, astra\n"
    port = launch(tmp_path, DASHBOARD_PORT="http")
    assert port.returncode == 2
    assert "DASHBOARD_PORT='http' is not valid" in port.stderr


def test_the_page_refuses_when_streamlit_itself_listens_beyond_this_machine(
    tmp_path: Path, chromium: webdriver.Chrome
) -> None:
    # `streamlit run` by hand on another address (127.0.0.2: loopback, but not a local host as
    # the rule names them) and no DASHBOARD_PASSWORD: the page shows only why.
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
            "--server.address", "127.0.0.2", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ],
        cwd=tmp_path,
        env={**os.environ, **make_env(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.2:{port}"
        wait_http(f"{url}/_stcore/health", timeout_s=60, proc=proc)
        chromium.get(url)
        text = b.wait_text(chromium, "serves the dashboard beyond this machine")
        assert "error: Streamlit's server.address='127.0.0.2' serves the dashboard" in text
        assert "Ask and vote" not in text and "Evaluation" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_with_a_password_nothing_shows_before_it_is_given(
    tmp_path: Path, chromium: webdriver.Chrome
) -> None:
    secret = "correct horse battery"
    with running_dashboard(tmp_path, {**make_env(tmp_path), "DASHBOARD_PASSWORD": secret}) as d:
        chromium.get(f"{d.url}/evaluation")
        text = b.wait_text(chromium, "Password", "Sign in")
        assert "Evaluation" not in text and "Ask and vote" not in text
        b.type_into(chromium, "Password", "wrong one")
        b.click(chromium, "Sign in")
        text = b.wait_text(chromium, "Wrong password.")
        assert "Evaluation" not in text
        assert not (tmp_path / "data").exists()  # the store is not even opened before it
        b.type_into(chromium, "Password", secret)
        b.click(chromium, "Sign in")
        b.wait_text(chromium, "Ask and vote", "Evaluation", "Comparisons", "Fine-tunes")
        b.navigate(chromium, "Fine-tunes")
        b.wait_text(chromium, "Reranker in use:")
        log = d.log.read_text()
    assert "(password required)" in log
    assert secret not in log
