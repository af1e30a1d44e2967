from __future__ import annotations

from pathlib import Path

import pytest

from coderank.config import from_env
from coderank.errors import ConfigError


def test_defaults_are_the_embedded_ones() -> None:
    s = from_env({}, env_file=None)
    assert s.llm_backend == "local"
    assert s.local_model == "qwen2.5-coder-1.5b"
    assert s.store == "sqlite"
    assert s.hf_model == "microsoft/Phi-3-mini-128k-instruct"
    assert s.sqlite_path == "data/coderank.db"
    assert s.checkpoint_url == "data/checkpoints.db"
    assert s.pair_policy == "top2"
    assert s.pair_explore == 0.2


@pytest.mark.parametrize(
    ("name", "value", "accepts"),
    [
        ("LLM_BACKEND", "openai", "local, hf"),
        ("LOCAL_MODEL", "llama-70b", "qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, gemma-3-270m"),
        ("STORE", "mongo", "sqlite"),
        ("PAIR_POLICY", "best", "top2, uncertain, random"),
        ("LLM_MAX_NEW_TOKENS", "lots", "whole number"),
        ("LLM_MAX_NEW_TOKENS", "0", "whole number"),
        ("LLM_TIMEOUT_S", "-3", "seconds"),
        ("LLM_THREADS", "0", "whole number 1-256"),
        ("PAIR_EXPLORE", "1.5", "share from 0 to 1"),
        ("VOTE_QUORUM", "-1", "whole number"),
        ("RERANKER_LOAD_DIR", "/no/such/folder", "folder that exists"),
        ("CHECKPOINT_URL", "redis://localhost", "postgresql"),
        ("VOTE_WINDOW_HOURS", "-2", "hours from 0"),
        ("DIGEST_CRON", "every monday", "five crontab fields"),
        ("DIGEST_TZ", "Mars/Olympus", "IANA time zone"),
        ("DIGEST_GRACE_HOURS", "0", "hours above 0"),
        ("JOBS_URL", "mysql://db/jobs", "sqlite:///path"),
        ("LOG_FORMAT", "xml", "text, json"),
    ],
)
def test_a_wrong_value_names_the_variable_and_what_it_accepts(
    name: str, value: str, accepts: str
) -> None:
    with pytest.raises(ConfigError) as info:
        from_env({name: value}, env_file=None)
    message = str(info.value)
    assert message.startswith(f"{name}=")
    assert accepts in message
    assert "\n" not in message


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "PAIR_POLICY=uncertain\nVOTE_QUORUM=3\nHUGGINGFACEHUB_API_TOKEN=hf_secret\n"
    )
    s = from_env({"VOTE_QUORUM": "7"}, env_file=env_file)
    assert s.pair_policy == "uncertain"
    assert s.vote_quorum == 7
    assert s.hf_token == "hf_secret"
    assert "hf_secret" not in repr(s)


def test_data_dir_moves_the_default_files(tmp_path: Path) -> None:
    s = from_env({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert s.sqlite_path == str(tmp_path / "coderank.db")
    assert s.checkpoint_url == str(tmp_path / "checkpoints.db")


def test_env_example_lists_every_setting() -> None:
    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name in [
        "LLM_BACKEND", "HF_MODEL", "HF_ENDPOINT_URL", "HUGGINGFACEHUB_API_TOKEN",
        "LLM_MAX_NEW_TOKENS", "LLM_TIMEOUT_S", "LLM_THREADS", "RERANKER_MODEL", "RERANKER_LOAD_DIR",
        "STORE",
        "SQLITE_PATH", "CHECKPOINT_URL", "PAIR_POLICY", "PAIR_EXPLORE", "VOTE_QUORUM",
        "DATA_DIR", "LOCAL_MODEL", "LOCAL_GGUF_PATH", "CODERANK_CACHE_DIR", "VOTE_WINDOW_HOURS",
        "JOBS_URL",
        "DIGEST_CRON", "DIGEST_TZ", "DIGEST_GRACE_HOURS", "DIGEST_CHANNEL", "LOG_FORMAT",
    ]:  # fmt: skip
        assert f"\n{name}=" in text, name


def test_the_hf_backend_with_hub_offline_mode_is_refused_up_front() -> None:
    with pytest.raises(ConfigError, match="unset HF_HUB_OFFLINE"):
        from_env({"LLM_BACKEND": "hf", "HF_HUB_OFFLINE": "1"}, env_file=None)
    assert from_env({"LLM_BACKEND": "hf", "HF_HUB_OFFLINE": "0"}, env_file=None).llm_backend == "hf"


def test_the_secrets_the_log_filter_scrubs() -> None:
    s = from_env(
        {
            "STORE": "astra",
            "ASTRA_DB_API_ENDPOINT": "https://db.example",
            "ASTRA_DB_APPLICATION_TOKEN": "AstraCS:tok",
            "HUGGINGFACEHUB_API_TOKEN": "hf_tok",
            "DATABASE_URL": "postgresql://coderank:p%40ss@db:5432/coderank?password=other",
        },
        env_file=None,
    )
    assert set(s.secrets()) >= {"AstraCS:tok", "hf_tok", "p%40ss", "p@ss", "other"}
    assert not any("jobs.db" in secret for secret in from_env({}, env_file=None).secrets())
    assert s.log_format == "text"
    assert from_env({"LOG_FORMAT": "json"}, env_file=None).log_format == "json"
