"""``python -m bot``: settings -> services -> create_app -> Socket Mode or HTTP server."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from slack_bolt.error import BoltError

from bot import config as slack_config
from bot.app import build_client, create_app
from bot.jobs import start_jobs
from bot.services import build_bot_services
from coderank import config as core_config
from coderank.agents.model_process import close_model_processes
from coderank.errors import CoderankError, ConfigError, ModelUnavailableError
from coderank.logs import setup_logging
from coderank.metrics import Metrics
from coderank.redaction import Redactor
from coderank.services import build_services

log = logging.getLogger("bot")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # `docker stop` and process managers send SIGTERM: shut down as on Ctrl-C, so pending message
    # updates are sent, running generations finish and the jobs lease is handed back.
    raise KeyboardInterrupt


def main() -> int:
    try:
        settings = core_config.from_env()
        slack = slack_config.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Before anything logs: LOG_FORMAT, and every secret of both settings scrubbed from the log.
    secrets = [*settings.secrets(), *slack.secrets()]
    setup_logging(log_format=settings.log_format, secrets=secrets)

    def refuse_start(message: str) -> int:
        """One line naming what to fix (a JSON object under LOG_FORMAT=json), scrubbed: exit 2."""
        if settings.log_format == "json":
            log.error("error: %s", message)
        else:
            print(f"error: {Redactor(secrets).scrub(message)}", file=sys.stderr)
        return 2

    metrics = Metrics()  # this process's registry, served on GET /metrics
    client = build_client(slack, metrics=metrics)
    try:
        core = build_services(settings, metrics=metrics)  # opens the store and the checkpointer
        core.migrate_if_needed(sys.stderr)  # a store of the previous version: once
    except CoderankError as exc:  # e.g. Astra refused the token: one line naming the setting
        return refuse_start(str(exc))
    try:
        core.check_model()  # one tiny generation: a model that cannot run is reported now
    except ModelUnavailableError as exc:
        # The bot still serves votes and figures; /healthz says why it cannot generate.
        log.error("the embedded model is not available: %s", exc)
    else:
        healthy, detail = core.model_health()
        if not healthy:  # e.g. a promoted reranker this machine cannot see
            log.error("not ready to score: %s", detail)
    services = build_bot_services(slack, settings, core, client=client)

    def stop() -> None:
        services.close()
        core.close()
        close_model_processes()

    try:
        app = create_app(slack, services, client=client)
    except BoltError as exc:
        # auth.test failed: the message names the Slack error, never the token.
        stop()
        return refuse_start(f"Slack refused SLACK_BOT_TOKEN ({exc})")
    except OSError as exc:  # auth.test could not reach Slack at all (retried first)
        stop()
        where = slack.api_url or "https://slack.com/api/"
        reason = getattr(exc, "reason", None) or type(exc).__name__
        return refuse_start(
            f"Slack's Web API at {where} could not be reached ({reason}):"
            " check this machine's network, or SLACK_API_URL"
        )
    try:
        start_jobs(settings, services, client)
    except ConfigError as exc:
        stop()
        return refuse_start(str(exc))
    resumed = services.generations.resume_pending()
    if core.coordination.shared:  # renew this replica's work; take over a dead replica's
        services.generations.keep(every_s=settings.replica_lease_s / 3)
    if resumed:
        log.info("resumed %d comparison(s) asked for before the restart", resumed)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        from bot.http import make_server

        # HTTP mode: Slack's events and the probes on PORT. Socket Mode: the probes only, on PORT
        # (the image's HEALTHCHECK, a balancer's /readyz, a Prometheus scrape), beside the socket.
        server = make_server(
            None if slack.app_token else app,
            host="0.0.0.0",
            port=slack.port,
            health=core.model_health,
            ready=core.readiness,
            metrics=metrics,
        )
        if slack.app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            threading.Thread(target=server.run, name="probes", daemon=True).start()
            log.info("CodeRank bot connecting in Socket Mode (probes on :%d)", slack.port)
            SocketModeHandler(app, slack.app_token).start()
        else:
            log.info("CodeRank bot listening on :%d/slack/events", slack.port)
            server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
