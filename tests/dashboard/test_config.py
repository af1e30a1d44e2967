from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from coderank.errors import ConfigError, InvalidVoteError
from dashboard.access import may_close, password_ok, voter_id
from dashboard.config import check_exposure, from_env
from dashboard.context import start_logging
from harness.settings import make_settings


def test_defaults_serve_this_machine_only() -> None:
    s = from_env({}, env_file=None)
    assert (s.host, s.port, s.password, s.admins) == ("127.0.0.1", 8501, None, frozenset())


def test_the_password_and_the_admins() -> None:
    s = from_env(
        {
            "DASHBOARD_HOST": "0.0.0.0",
            "DASHBOARD_PORT": "9000",
            "DASHBOARD_PASSWORD": " s3cret pass ",
            "CODERANK_ADMINS": "U1, U2,",
            "DASHBOARD_ADMIN_PASSWORD": "adm1n-only",
        },
        env_file=None,
    )
    assert (s.host, s.port, s.admins) == ("0.0.0.0", 9000, frozenset({"U1", "U2"}))
    assert s.password == " s3cret pass "  # taken as typed
    assert s.admin_password == "adm1n-only"
    assert "s3cret" not in repr(s) and "adm1n" not in repr(s)
    assert from_env({"DASHBOARD_ADMIN_PASSWORD": "  "}, env_file=None).admin_password is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "127.0.0.2", "::"])
def test_another_host_without_a_password_is_refused_naming_both_settings(host: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_env({"DASHBOARD_HOST": host, "DASHBOARD_PASSWORD": "  "}, env_file=None)
    assert str(info.value) == (
        f"DASHBOARD_HOST={host!r} serves the dashboard beyond this machine: set "
        "DASHBOARD_PASSWORD as well (or DASHBOARD_HOST=127.0.0.1)"
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_local_host_needs_no_password(host: str) -> None:
    check_exposure(host, None)
    assert from_env({"DASHBOARD_HOST": host}, env_file=None).host == host


@pytest.mark.parametrize("port", ["0", "65536", "http", "-1"])
def test_a_wrong_port_names_the_variable(port: str) -> None:
    with pytest.raises(ConfigError, match=f"DASHBOARD_PORT={port!r} is not valid"):
        from_env({"DASHBOARD_PORT": port}, env_file=None)


def test_passwords_and_voter_ids() -> None:
    assert password_ok("s3cret", "s3cret")
    assert not password_ok("s3cre", "s3cret")
    assert not password_ok("", "s3cret")
    assert voter_id("  U0123ABCD ") == "U0123ABCD"
    assert voter_id("alice@example.com") == "alice@example.com"
    for bad in ("", "   ", "two words", "x" * 65, "<b>"):
        with pytest.raises(InvalidVoteError, match="a voter id is 1 to 64"):
            voter_id(bad)
    assert may_close("bob", requester="bob", admins=frozenset())
    assert may_close("root", requester="bob", admins=frozenset({"root"}))
    assert not may_close("eve", requester="bob", admins=frozenset({"root"}))


def test_the_pages_log_lines_scrub_the_passwords_and_the_tokens(tmp_path: Path) -> None:
    hf_token, password, admin = "hf_" + "a1B2" * 8, "page-pass-9", "admin-pass-7"
    settings = make_settings(tmp_path, HUGGINGFACEHUB_API_TOKEN=hf_token)
    dashboard = from_env(
        {"DASHBOARD_PASSWORD": password, "DASHBOARD_ADMIN_PASSWORD": admin}, env_file=None
    )
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = start_logging(settings, dashboard, stream=stream)
    try:
        try:
            raise RuntimeError(f"endpoint said {hf_token}; typed {password} then {admin}")
        except RuntimeError:
            logging.getLogger("dashboard.asking").exception("comparison c-1 failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = stream.getvalue()
    assert "comparison c-1 failed" in text and "RuntimeError: endpoint said ***" in text
    assert hf_token not in text and password not in text and admin not in text
