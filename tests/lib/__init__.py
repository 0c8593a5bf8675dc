"""Helpers shared by pipjail's integration tests (run by tests/run.py)."""
