"""Validation of synthetic data: expectations, fidelity, privacy, and the Report."""
