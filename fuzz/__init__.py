"""Input generators shared by the fuzz tests (tests/test_fuzz_*.py) and the
long runs (``make fuzz``, ``python -m fuzz``)."""
