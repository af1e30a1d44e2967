from __future__ import annotations

import pytest

from bot.config import from_env
from coderank.errors import ConfigError

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-secret", "SLACK_SIGNING_SECRET": "sig-secret"}


def test_defaults_and_admins() -> None:
    s = from_env({**GOOD, "CODERANK_ADMINS": "U1, U2,"}, env_file=None)
    assert (s.port, s.gen_workers, s.app_token, s.api_url) == (3000, 2, None, None)
    assert s.admins == frozenset({"U1", "U2"})
    assert s.stream_progress and s.update_interval_s == 1.0
    assert (
        from_env({**GOOD, "SLACK_UPDATE_INTERVAL_S": "0.2"}, env_file=None).update_interval_s == 0.2
    )
    assert not from_env({**GOOD, "SLACK_STREAM_PROGRESS": "OFF"}, env_file=None).stream_progress
    assert "secret" not in repr(s)


@pytest.mark.parametrize(
    ("env", "starts"),
    [
        ({"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN is missing"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is missing"),
        ({**GOOD, "SLACK_BOT_TOKEN": "xoxp-user-secret"}, "SLACK_BOT_TOKEN is not valid"),
        ({**GOOD, "SLACK_APP_TOKEN": "bad-secret"}, "SLACK_APP_TOKEN is not valid"),
        ({**GOOD, "PORT": "99999"}, "PORT='99999' is not valid"),
        ({**GOOD, "GEN_WORKERS": "0"}, "GEN_WORKERS='0' is not valid"),
        ({**GOOD, "SLACK_API_URL": "slack.test"}, "SLACK_API_URL='slack.test' is not valid"),
        ({**GOOD, "SLACK_STREAM_PROGRESS": "yes"}, "SLACK_STREAM_PROGRESS='yes' is not valid"),
        ({**GOOD, "SLACK_UPDATE_INTERVAL_S": "0"}, "SLACK_UPDATE_INTERVAL_S='0' is not valid"),
        ({**GOOD, "SLACK_UPDATE_INTERVAL_S": "soon"}, "SLACK_UPDATE_INTERVAL_S='soon' is not"),
    ],
)
def test_wrong_slack_settings_name_the_variable_without_echoing_secrets(
    env: dict[str, str], starts: str
) -> None:
    with pytest.raises(ConfigError) as info:
        from_env(env, env_file=None)
    assert str(info.value).startswith(starts)
    assert "secret" not in str(info.value)
