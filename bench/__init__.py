"""Harnesses around grounded, outside the product: ``bench.perf`` (performance suites, ``grounded bench``)
and ``bench.faults`` (fault injection and reliability checks, ``python -m bench.faults.reliability``).

Shared harness code lives in ``bench.common``. Nothing in the product imports this package at load
time; ``grounded bench`` dispatches to ``bench.perf.cli:main`` lazily.
"""
