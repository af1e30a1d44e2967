"""The issue's measurement: four replicas (real processes) take ten votes each at the same
moment on one open comparison, over ``DATABASE_URL`` and the Astra store."""

from __future__ import annotations

from pathlib import Path

from coderank.config import from_env
from coderank.services import build_services
from harness.data_api_server import DataApiServer
from harness.fakes import LengthReranker, fake_agents
from tests.coderank.coordination.harness import document_votes, feedback_votes
from tests.replica_process import ReplicaProcess

REPLICAS = 4
VOTES = 10


def test_every_vote_a_voter_was_told_was_recorded_is_in_the_tally(
    database_url: str, astra: DataApiServer, tmp_path: Path
) -> None:
    env = {
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "STORE": "astra",
        "ASTRA_DB_API_ENDPOINT": astra.endpoint,
        "ASTRA_DB_APPLICATION_TOKEN": astra.token,
        "VOTE_QUORUM": "0",  # voting stays open whatever the number of votes
    }
    services = build_services(
        from_env(env, env_file=None), agents=fake_agents(), reranker=LengthReranker()
    )
    try:
        cid = services.comparisons.start("Write f", requester="ann", source="slack").comparison_id
        replicas = [
            ReplicaProcess.voting(
                {**env, "DATA_DIR": str(tmp_path / f"replica-{n}"), "REPLICA_ID": f"replica-{n}"},
                cid,
                prefix=f"r{n}",
                count=VOTES,
            )
            for n in range(REPLICAS)
        ]
        try:
            for replica in replicas:
                replica.expect("ready")
            for replica in replicas:
                replica.tell()  # go
            told = [line for replica in replicas for line in replica.lines_until("done")]
        finally:
            for replica in replicas:
                replica.kill()

        recorded = dict(line.split()[1:] for line in told if line.startswith("recorded "))
        assert [line for line in told if not line.startswith("recorded ")] == []  # closed, error
        assert len(recorded) == REPLICAS * VOTES
        final = services.comparisons.get(cid)
        assert final.voting
        assert dict(final.votes) == recorded
        assert feedback_votes(services.store, cid) == recorded
        assert document_votes(services.store, cid) == recorded
    finally:
        services.close()
