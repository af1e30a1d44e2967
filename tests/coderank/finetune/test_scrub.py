"""Scrubbing tokens, e-mail addresses and Slack user ids from exported text (pure)."""

from __future__ import annotations

from collections import Counter

import pytest

from coderank.finetune.scrub import describe, scrub
from coderank.redaction import Redactor

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


# Each shape the log scrubs, as it was missed by exports before (issue 29) or as people paste it.
SHAPES = [
    ("ASTRA_DB_APPLICATION_TOKEN=AstraCS:AbCdEfGhIjKl:0123456789abcdef0123", "AstraCS:"),
    ("curl -d token=xoxb%2D1234567890%2D0987654321%2DAbCdEfGhIj", "xoxb%2D"),
    ("hooks = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX'", "XXXXXXXX"),
    ("DATABASE_URL=postgresql://coderank:s3cret-pw@db:5432/coderank", "s3cret-pw"),
    (f"BOT={SLACK_BOT}", "AbCdEfGh"),
]


@pytest.mark.parametrize(("text", "secret"), SHAPES)
def test_exports_scrub_every_shape_the_log_scrubs(text: str, secret: str) -> None:
    assert secret in text
    assert secret not in Redactor().scrub(text)  # the log's scrubbing
    assert secret not in scrub(text)  # the export's
    assert "[token]" in scrub(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("owner = 'user_U0123ABCD'", "owner = 'user_[user]'"),
        ("U0123ABCD,W0123ABCDE", "[user],[user]"),
        ("ID XU0123ABCD stays", "ID XU0123ABCD stays"),
    ],
)
def test_a_user_id_joined_to_a_word_by_an_underscore_is_scrubbed(text: str, expected: str) -> None:
    assert scrub(text) == expected
