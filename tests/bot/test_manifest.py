"""The Slack app manifest asks for what the bot uses and nothing more."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT


def test_manifest_has_both_commands_interactivity_socket_mode_and_minimal_scopes() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/coderank", "/coderank-admin"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {"commands", "chat:write", "files:write"}
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["socket_mode_enabled"] is True
