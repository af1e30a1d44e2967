"""The comparison graph: agents fan out, the reranker scores, a pair is shown, votes resume it."""
