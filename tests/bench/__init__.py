"""The benchmark suite behind ``make bench`` (README « Mesurer les performances »).

Benchmarks are never timed tests: ``python -m tests.bench.run`` measures and writes
``var/bench/results.json`` and ``results.md``; the only test here (``test_harness``) checks
the harness on tiny data, never a duration.
"""
