"""Benchmarks: plain scripts and pytest-benchmark tests (run with --benchmark-enable)."""
