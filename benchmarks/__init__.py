"""pybpfc against clang, side by side: every example in examples/ has a C
twin in benchmarks/c/ and a scenario that exercises its hook.  ``make
bench`` (``python -m benchmarks``) measures both and writes
docs/performance.md."""
