"""Baseline rule strategies and the ML policy. Pure core."""
