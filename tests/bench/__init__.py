"""The benchmark behind ``scripts/bench.py`` (test-support code: it uses the fakes and servers)."""
