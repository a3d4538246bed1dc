"""The validation report: a typed, versioned model with a verdict per gate.

A :class:`Report` holds sections (expectations, fidelity, privacy, utility, images), each a
list of :class:`Check` — value, threshold, the same metric on a real holdout for comparison,
whether it passed, and one sentence saying what it means. Checks marked ``gate`` decide
``report.passed``; the others inform. Plots are stored as *aggregated* data (histogram
counts, a correlation matrix, ROC points, generated images), never as real records.

``to_json`` writes the versioned JSON; ``to_html`` a single self-contained HTML file.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

SCHEMA_VERSION = "1.0"
Comparison = Literal["<=", ">=", "<", ">"]


def compare(value: float, comparison: Comparison, threshold: float) -> bool:
    return {
        "<=": value <= threshold,
        ">=": value >= threshold,
        "<": value < threshold,
        ">": value > threshold,
    }[comparison]


class Check(BaseModel):
    """One measured quantity and, for gates, its verdict."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="stable key, e.g. 'privacy.dcr_share'")
    title: str
    value: float | None = None
    threshold: float | None = None
    comparison: Comparison | None = Field(default=None, description="passes when value <comparison> threshold")
    baseline: float | None = Field(default=None, description="the same metric for a real holdout")
    gate: bool = False
    passed: bool | None = Field(default=None, description="None for informational checks")
    meaning: str = Field(description="one sentence: what it measures or protects against")
    details: dict[str, Any] = Field(default_factory=dict, description="aggregates only, never real rows")

    @classmethod
    def measure(
        cls,
        id: str,
        title: str,
        value: float | None,
        meaning: str,
        *,
        threshold: float | None = None,
        comparison: Comparison | None = None,
        gate: bool = False,
        baseline: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> Check:
        """A check whose ``passed`` follows from value, comparison and threshold."""
        passed = None
        if threshold is not None and comparison is not None:
            passed = value is not None and compare(float(value), comparison, float(threshold))
        return cls(id=id, title=title, value=value, threshold=threshold, comparison=comparison, gate=gate,
                   passed=passed, baseline=baseline, meaning=meaning, details=details or {})


class Plot(BaseModel):
    """Aggregated data for one figure; the HTML renderer draws it by ``kind``."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="histogram, bars, heatmap, roc, lines, image_grid, …")
    title: str
    data: dict[str, Any]
    caption: str = ""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="expectations, fidelity, privacy, utility, images")
    title: str
    summary: str = ""
    checks: list[Check] = Field(default_factory=list)
    plots: list[Plot] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, description="tool output, e.g. Great Expectations' results")


class Report(BaseModel):
    """The outcome of one validation: sections of checks, provenance, verdict."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    modality: Literal["tabular", "image"] = "tabular"
    created_at: str = Field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    sections: list[Section] = Field(default_factory=list)
    provenance: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        """True when every gate passed (a report without gates passes)."""
        return all(check.passed for check in self.gates())

    def gates(self) -> list[Check]:
        return [c for s in self.sections for c in s.checks if c.gate]

    def failed_gates(self) -> list[Check]:
        return [c for c in self.gates() if not c.passed]

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def check(self, id: str) -> Check:
        for section in self.sections:
            for check in section.checks:
                if check.id == id:
                    return check
        raise KeyError(id)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        text = self.model_dump_json(indent=2)
        if path is not None:
            from synthkit.data.io import atomic_path

            with atomic_path(path) as tmp:
                Path(tmp).write_text(text)
        return text

    def to_html(self, path: str | os.PathLike | None = None, *, title: str = "synthkit validation report") -> str:
        """One self-contained HTML page (no network); written atomically when ``path`` is given."""
        from synthkit.validators.html import render

        text = render(self, title=title)
        if path is not None:
            from synthkit.data.io import atomic_path

            with atomic_path(path) as tmp:
                Path(tmp).write_text(text, encoding="utf-8")
        return text

    def summary(self) -> list[str]:
        """Plain-text lines: the verdict, then one line per gate."""
        gates = self.gates()
        failed = self.failed_gates()
        head = f"PASS: all {len(gates)} gates pass" if self.passed else f"FAIL: {len(failed)} of {len(gates)} gates failed"
        lines = [head]
        for check in gates:
            mark = "pass" if check.passed else "FAIL"
            value = "n/a" if check.value is None else f"{check.value:.4g}"
            rule = "" if check.threshold is None else f" (gate {check.comparison} {check.threshold:.4g})"
            base = "" if check.baseline is None else f", baseline {check.baseline:.4g}"
            lines.append(f"  {mark:4}  {check.title}: {value}{rule}{base}")
        return lines

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> Report:
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text()
        raw = json.loads(text)
        raw.pop("passed", None)
        return cls.model_validate(raw)
