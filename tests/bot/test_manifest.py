"""The Slack app manifest asks for what the bot uses and nothing more."""

from __future__ import annotations

import yaml

from harness.settings import ROOT


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


def test_manifest_enables_the_home_tab_and_its_event() -> None:
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert home["messages_tab_enabled"] is True  # the fine-tunes' direct messages
    events = manifest["settings"]["event_subscriptions"]
    assert events["bot_events"] == ["app_home_opened"]  # it needs no scope; nor does views.publish
    assert events["request_url"].endswith("/slack/events")
