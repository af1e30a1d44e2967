"""Agents as LangChain chains (prompt | chat model | parser), with a timeout and one retry."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable

from coderank.agents.prompts import AGENTS, TEMPERATURES, TESTER, agent_prompt, tester_prompt
from coderank.errors import ModelCrashedError, ModelUnavailableError
from coderank.fences import extract_code
from coderank.models import Answer
from coderank.redaction import Redactor

log = logging.getLogger(__name__)


@dataclass
class Agent:
    """One named chain with a per-call timeout and retries. An error's text (an endpoint's
    reply, an exception) is kept as ``redactor`` shows it: scrubbed of secrets, on one line."""

    name: str
    chain: Runnable[dict[str, str], str]
    timeout_s: float
    attempts: int = 2
    redactor: Redactor = field(default_factory=Redactor)

    def answer(self, problem: str) -> Answer:
        """Run the chain; never raises: a failure after every attempt is an :class:`Answer` with
        ``error`` set, so one failing agent does not stop the others. A model that crashed or
        cannot start is not tried again: the answer is ``fatal``."""
        started = time.monotonic()
        error = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"agent-{self.name}")
            future = pool.submit(self.chain.invoke, {"problem": problem})
            try:
                text = future.result(timeout=self.timeout_s)
            except FutureTimeout:
                error = f"timed out after {self.timeout_s:g} s"
            except (ModelCrashedError, ModelUnavailableError) as exc:
                log.error("agent %s: %s", self.name, exc)
                return Answer(
                    agent=self.name,
                    text="",
                    code="",
                    latency_s=time.monotonic() - started,
                    error=self.redactor.shown(str(exc)),
                    fatal=True,
                )
            except Exception as exc:  # noqa: BLE001 - any model or transport failure
                error = self.redactor.shown(f"{type(exc).__name__}: {exc}")
            else:
                if text.strip():
                    return Answer(
                        agent=self.name,
                        text=text,
                        code=extract_code(text),
                        latency_s=time.monotonic() - started,
                    )
                error = "empty answer"
            finally:
                pool.shutdown(wait=False)
            log.warning("agent %s attempt %d failed: %s", self.name, attempt, error)
        return Answer(
            agent=self.name, text="", code="", latency_s=time.monotonic() - started, error=error
        )


def build_agents(
    chat_model: BaseChatModel,
    *,
    timeout_s: float,
    attempts: int = 2,
    redactor: Redactor | None = None,
) -> dict[str, Agent]:
    """The three agents (Concise Fixer, Explainer, Optimizer) over one chat model."""
    return {
        name: Agent(
            name=name,
            chain=agent_prompt(name)
            | chat_model.bind(temperature=TEMPERATURES[name])
            | StrOutputParser(),
            timeout_s=timeout_s,
            attempts=attempts,
            redactor=redactor or Redactor(),
        )
        for name in AGENTS
    }


def build_tester(
    chat_model: BaseChatModel,
    *,
    timeout_s: float,
    attempts: int = 2,
    redactor: Redactor | None = None,
) -> Agent:
    """The Tester: assert lines from the problem alone (read by
    ``coderank.execution.tester_checks``)."""
    return Agent(
        name=TESTER,
        chain=tester_prompt()
        | chat_model.bind(temperature=TEMPERATURES[TESTER])
        | StrOutputParser(),
        timeout_s=timeout_s,
        attempts=attempts,
        redactor=redactor or Redactor(),
    )
