"""Benchmarks of gridcase: `python -m bench` (see bench/README.md)."""
