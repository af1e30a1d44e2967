"""Scrubbing tokens, e-mail addresses and Slack user ids from exported text (pure)."""

from __future__ import annotations

from collections import Counter

import pytest

from coderank.finetune.scrub import describe, scrub

SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'client = WebClient(token="{SLACK_BOT}")', 'client = WebClient(token="[token]")'),
        ("SLACK_APP_TOKEN=xapp-1-A0123ABCD-1234567890-abcdef0123456789", "SLACK_APP_TOKEN=[token]"),
        ("user token xoxp-1111-2222-3333-abcdefabcdef", "user token [token]"),
        ("login(token='hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345')", "login(token='[token]')"),
        ("OPENAI_API_KEY=sk-proj-AbCdEf0123456789GhIjKlMn", "OPENAI_API_KEY=[token]"),
        ("mail me at jane.doe+code@example.co.uk, thanks", "mail me at [email], thanks"),
        ("<@U0123ABCD> asked this", "[user] asked this"),
        ("cc <@W0123ABCDEF|jane> please", "cc [user] please"),
        ("the voter U0123ABCD said", "the voter [user] said"),
    ],
)
def test_secrets_and_ids_become_placeholders(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "code",
    [
        "from huggingface_hub import hf_hub_download",
        "import sklearn  # pip install scikit-learn, not sk-learn",
        "@property\ndef name(self):\n    return self._name",
        "UNDEFINED = object()\nWARNING = 'w'",
        "y = weights @ inputs.T",
        "task-runner --user-id 42",
    ],
)
def test_ordinary_code_is_left_as_it_is(code: str) -> None:
    assert scrub(code) == code


def test_finds_are_counted_and_described() -> None:
    found: Counter[str] = Counter()
    scrub(f"{SLACK_BOT} and sk-ant-{'a' * 30} to bob@example.com for <@U0123ABCD>", found)
    assert describe(found) == "2 tokens, 1 e-mail address, 1 Slack user id"
    assert describe(Counter()) == ""
