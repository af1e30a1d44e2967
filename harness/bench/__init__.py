"""The benchmark behind ``scripts/bench.py`` (see docs/benchmarks.md)."""
