"""The benchmark's own tests (the benchmark itself is ``harness/bench``)."""
