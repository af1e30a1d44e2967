"""What the tests and the benchmark share: stand-ins for the services these machines cannot reach
(a Slack Web API server, an Astra Data API server, a chat-model server), a throwaway PostgreSQL,
scripted agents and rerankers, synthetic data, a running bot and a cluster of replicas. No pytest
here: the benchmark (``harness/bench``, ``scripts/bench.py``) runs without the tests."""
