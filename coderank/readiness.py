"""Readiness (``GET /readyz``): whether this process can take work now. The models, the store
and, with ``DATABASE_URL``, PostgreSQL must each answer one cheap call within a short timeout.

Liveness (``/healthz``) is another question: a process that is not ready (Astra is down) is
still alive, and restarting it would not help.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coderank.errors import CoderankError, ModelError
from coderank.redaction import Redactor
from coderank.reranker.registry import reranker_source

if TYPE_CHECKING:
    from coderank.services import Services

log = logging.getLogger(__name__)

# Per check: a probe every few seconds must never pile up behind a store that hangs.
READY_TIMEOUT_S = 2.0
OK = "ok"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = OK


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """``{"ready": bool, "checks": {name: "ok" or why not}}``."""
        return {"ready": self.ready, "checks": {c.name: c.detail for c in self.checks}}


def probe(name: str, call: Callable[[], None], redactor: Redactor) -> Check:
    """``call`` as a check: ok if it returns, else why not (scrubbed of secrets)."""
    try:
        call()
    except CoderankError as exc:
        return Check(name, False, redactor.scrub(str(exc)))
    except Exception as exc:  # noqa: BLE001 - any failure of a probe means not ready, not a 500
        log.warning("readiness check %s raised %s", name, type(exc).__name__)
        return Check(name, False, f"{type(exc).__name__}")
    return Check(name, True)


def _model(services: Services, *, store_answers: bool) -> None:
    """The reranker in use can be told (when the store answers: a promotion is recorded there)
    and the embedded chat model, if it is the one in use, is running now."""
    if store_answers:
        try:
            reranker_source(services.settings, services.store)
        except ModelError as exc:
            raise ModelError(f"reranker: {exc}") from exc
    if not services.local_model:
        return
    from coderank.agents.llm import local_model

    health = local_model(services.settings).health()
    if health.state != "ready":
        detail = f": {health.detail}" if health.detail else ""
        raise ModelError(f"the embedded model is {health.state}{detail}")


def check_readiness(services: Services, *, timeout_s: float = READY_TIMEOUT_S) -> Readiness:
    """Each check in turn: the store, the models, then PostgreSQL when it is configured."""
    redactor = Redactor(services.settings.secrets())
    store = probe("store", lambda: services.store.ping(timeout_s=timeout_s), redactor)
    model = probe("model", lambda: _model(services, store_answers=store.ok), redactor)
    checks = [model, store]
    ping = services.coordination.ping
    if ping is not None:
        checks.append(probe("postgres", lambda: ping(timeout_s), redactor))
    return Readiness(tuple(checks))
