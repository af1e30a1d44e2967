"""``python -m dashboard`` (``make dashboard``): check every setting, then serve the page with
``streamlit run`` on DASHBOARD_HOST:DASHBOARD_PORT (127.0.0.1:8501 by default)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from coderank.errors import ConfigError
from dashboard.config import DashboardSettings, read_settings

APP = Path(__file__).resolve().with_name("app.py")


def streamlit_command(settings: DashboardSettings) -> list[str]:
    """``streamlit run`` on the configured address, headless, sending no usage statistics."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        settings.host,
        "--server.port",
        str(settings.port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def main() -> int:
    try:
        _, settings = read_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    locked = " (password required)" if settings.password else ""
    print(f"CodeRank dashboard: http://{settings.host}:{settings.port}{locked}", file=sys.stderr)
    command = streamlit_command(settings)
    os.execv(command[0], command)  # Streamlit replaces this process: signals reach it directly


if __name__ == "__main__":
    sys.exit(main())
