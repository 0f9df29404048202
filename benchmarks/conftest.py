"""Benchmarks are not part of ``make test``; run them with ``make bench``."""
