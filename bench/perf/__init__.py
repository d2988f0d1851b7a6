"""Performance benchmarks of grounded (``grounded bench``): query path, ingest, precision, scale.

Benchmarks print and record numbers; nothing here asserts a time.
"""
