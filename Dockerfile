# CodeRank on the embedded defaults (llama.cpp Gemma 3 270M, packaged MiniLM reranker, SQLite):
# the Slack bot by default, the command line on request.
# Not built in CI here (no Docker engine on these machines).
FROM python:3.11-slim

# llama-cpp-python compiles llama.cpp at install.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake bubblewrap python3 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/data \
    MODELS_DIR=/data/models \
    CODERANK_CACHE_DIR=/cache

# A virtualenv, as `make install` makes: scripts/install_llama_cpp.sh records its build in it.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, on its own. Plain PyPI serves a CUDA build of several GB: to get the CPU build, pass
# your PyTorch CPU wheel index with --build-arg PIP_EXTRA_INDEX_URL=...
ARG PIP_EXTRA_INDEX_URL=""
RUN pip install torch==2.13.0
# llama.cpp with every CPU variant, chosen when the model starts: an image built on one CPU runs
# on any x86-64 CPU (never -march=native, which would tie it to the building machine).
COPY scripts/install_llama_cpp.sh scripts/install_llama_cpp.sh
RUN scripts/install_llama_cpp.sh /opt/venv
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY coderank ./coderank
COPY bot ./bot
COPY dashboard ./dashboard
COPY .streamlit ./.streamlit
COPY scripts ./scripts
# Assemble the packaged GGUF once, at build time.
RUN python -c "from coderank.config import from_env; from coderank.agents.llm import local_gguf_path; print(local_gguf_path(from_env(env_file=None)))"

VOLUME ["/data"]
EXPOSE 3000
# The Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT); its jobs, votes and
# fine-tuned rerankers live in /data. For the command line and the scripts:
#   docker run -it -v coderank:/data <image> python -m coderank ask "Write a function is_prime(n)"
#   docker run -v coderank:/data <image> python scripts/export_feedback.py --out /data/pairs.jsonl
CMD ["python", "-m", "bot"]
