"""Benchmarks of the poll tick and of discovery, run outside the test suite.

``python -m benchmarks.poll_tick`` and ``python -m benchmarks.discovery_backfill``
start their own SecantusDB and replay server on 127.0.0.1. Results and the
method are in ``docs/benchmarks.md``.
"""
