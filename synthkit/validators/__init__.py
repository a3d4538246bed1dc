"""Validation of synthetic data: expectations, fidelity, privacy, and the Report.

``validate(real, synthetic, holdout=…, schema=…, policy=…, target=…)`` returns a
:class:`Report`; the metric functions live in :mod:`.fidelity` and :mod:`.privacy`, the
Great Expectations suite in :mod:`.expectations`, the gates in :mod:`.policy`.
Imports are lazy so that ``import synthkit`` stays fast.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "validate": "synthkit.validators.tabular",
    "validate_source": "synthkit.validators.tabular",
    "Policy": "synthkit.validators.policy",
    "Report": "synthkit.validators.report",
    "Section": "synthkit.validators.report",
    "Check": "synthkit.validators.report",
    "Plot": "synthkit.validators.report",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
