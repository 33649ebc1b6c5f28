"""Benchmarks run on demand (`.venv/bin/python benchmarks/<name>.py`); not part of the test suite."""
