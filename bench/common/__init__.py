"""Harness code shared by the performance suites and the fault checks: one server wrapper, one
corpus generator module, one loopback HTTP client, results and statistics helpers."""
