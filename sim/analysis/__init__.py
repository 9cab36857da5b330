"""Analyses of run outputs (pattern checks against the calibration targets)."""
