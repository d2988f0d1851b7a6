"""Fault-injection and reliability checks (``python -m bench.faults.reliability``): crashes, disk
faults, corruption, fuzzing, reload and load against the real ``grounded`` processes."""
