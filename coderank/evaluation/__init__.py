"""How well the reranker agrees with the team: pure metrics over stored votes."""
