"""Accounts, their per-account configuration and mode (paper/live)."""
