"""Benchmarks: `make bench` (python -m bench) prints every figure the issues ask for; none of this is a test."""
