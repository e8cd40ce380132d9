"""pybpfc against clang, side by side: every example in examples/ and every
benchmark-only program in benchmarks/programs/ has a C twin in
benchmarks/c/ and a scenario that exercises its hook.  ``make bench``
(``python -m benchmarks``) measures both and writes docs/performance.md;
benchmarks/FINDINGS.md says where pybpfc's code is behind and why."""
