"""One self-contained HTML file for a :class:`~synthkit.validators.report.Report`.

No network, no CDN, no script: styles are inline, plots are SVG drawn here from the report's
aggregated :class:`~synthkit.validators.report.Plot` data, images are ``data:`` URIs. A
Content-Security-Policy forbids every other source, so a browser never fetches anything.

Plot kinds drawn: ``histogram``, ``bars``, ``heatmap``, ``roc``, ``lines``, ``image_grid``.
Any other kind (or data a renderer cannot read) becomes a short note with the data folded
away, never an error: a report from a newer synthkit still opens.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from typing import Any

from synthkit.validators.report import Check, Plot, Report, Section

COLORS = ["#3b6fb6", "#e07b39", "#3f9e5a", "#9b59b6", "#c0392b", "#7f8c8d"]
W, H = 420, 220
PAD_L, PAD_R, PAD_T, PAD_B = 48, 12, 14, 40

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:18px 22px 60px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:30px 0 8px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.verdict{border-radius:8px;padding:16px 20px;margin:14px 0;color:#fff;font-size:18px}
.verdict b{font-size:26px;letter-spacing:.04em;margin-right:12px}
.pass{background:#2e7d4f}.fail{background:#b3261e}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px}
th,td{border:1px solid #dfe3ea;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#2e7d4f;font-weight:600}.bad{color:#b3261e;font-weight:600}.info{color:#5f6b7a}
.grid{display:flex;flex-wrap:wrap;gap:12px}
figure{background:#fff;border:1px solid #dfe3ea;border-radius:6px;margin:0;padding:8px 10px;max-width:560px}
table.kv th{width:28%}.kvgrid{columns:3 220px;font-size:13px;background:#fff;border:1px solid #dfe3ea;padding:6px 10px}
figcaption{font-size:12px;color:#5f6b7a;max-width:420px}
.muted{color:#5f6b7a}.small{font-size:12px}
details{margin:6px 0}pre{background:#fff;border:1px solid #dfe3ea;padding:8px;overflow:auto;max-height:360px;font-size:12px}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.note{background:#fff8e1;border:1px solid #f0d98c;padding:6px 10px;border-radius:4px}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3g}"
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.4g}"
    return esc(value)


def _verdict(check: Check) -> str:
    if check.passed is None:
        return '<span class="info">info</span>'
    return '<span class="ok">pass</span>' if check.passed else '<span class="bad">FAIL</span>'


def _threshold(check: Check) -> str:
    if check.threshold is None or check.comparison is None:
        return "–"
    return f"{esc(check.comparison)} {fmt(check.threshold)}"


# ---------------------------------------------------------------------------------------------
# SVG plots
# ---------------------------------------------------------------------------------------------

def _svg(body: str, width: int = W, height: int = H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" font-size="10" font-family="sans-serif">{body}</svg>')


def _legend(names: list[str]) -> str:
    items = "".join(f'<span><i style="background:{COLORS[i % len(COLORS)]}"></i>{esc(n)}</span>'
                    for i, n in enumerate(names))
    return f'<div class="legend">{items}</div>'


def _num(values: Any) -> list[float]:
    out = []
    for v in values:
        out.append(float("nan") if v is None else float(v))
    return out


def _axes(x0: float, x1: float, y1: float, x_labels: list[tuple[float, str]], y_label: str) -> str:
    left, right, top, bottom = PAD_L, W - PAD_R, PAD_T, H - PAD_B
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{esc(y_label)}</text>',
             f'<text x="{left - 4}" y="{bottom}" text-anchor="end">0</text>']
    for pos, label in x_labels:
        x = left + (pos - x0) / ((x1 - x0) or 1) * (right - left)
        parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#888"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle">{esc(label)}</text>')
    return "".join(parts)


def _edge_label(value: float, kind: str) -> str:
    if kind == "datetime":
        import datetime as dt

        try:
            return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=value)).strftime("%Y-%m-%d")
        except (OverflowError, ValueError):
            return f"{value:.3g}"
    return f"{value:.4g}"


def plot_histogram(plot: Plot) -> str:
    data = plot.data
    edges = _num(data["edges"])
    series = {k: _num(v) for k, v in data["series"].items()}
    top = max((v for vals in series.values() for v in vals if not math.isnan(v)), default=1.0) or 1.0
    left, right, bottom = PAD_L, W - PAD_R, H - PAD_B
    x0, x1 = edges[0], edges[-1]
    scale_x = (right - left) / ((x1 - x0) or 1)
    scale_y = (bottom - PAD_T) / top
    parts = []
    for i, (name, values) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        # Steps rather than filled bars, so that two or three series stay readable on top of each other.
        points = [f"{left:.1f},{bottom}"]
        for j, v in enumerate(values[: len(edges) - 1]):
            v = 0.0 if math.isnan(v) else v
            xa, xb = left + (edges[j] - x0) * scale_x, left + (edges[j + 1] - x0) * scale_x
            y = bottom - v * scale_y
            points += [f"{xa:.1f},{y:.1f}", f"{xb:.1f},{y:.1f}"]
        points.append(f"{right:.1f},{bottom}")
        fill = f' fill="{color}" fill-opacity="0.18"' if i < 2 else ' fill="none"'
        parts.append(f'<polyline points="{" ".join(points)}" stroke="{color}" stroke-width="1.6"{fill}>'
                     f'<title>{esc(name)}</title></polyline>')
    kind = data.get("x", "number")
    ticks = [(edges[0], _edge_label(edges[0], kind)), ((edges[0] + edges[-1]) / 2, _edge_label((edges[0] + edges[-1]) / 2, kind)),
             (edges[-1], _edge_label(edges[-1], kind))]
    svg = _svg(_axes(x0, x1, top, ticks, f"{top:.2g}") + "".join(parts))
    extra = []
    outside = data.get("outside") or {}
    for name, o in outside.items():
        if o and ((o.get("below") or 0) > 0 or (o.get("above") or 0) > 0):
            extra.append(f"{esc(name)}: {fmt(o.get('below'))} below, {fmt(o.get('above'))} above the range shown")
    missing = data.get("missing") or {}
    if missing and any((v or 0) > 0 for v in missing.values()):
        extra.append("missing: " + ", ".join(f"{esc(k)} {fmt(v)}" for k, v in missing.items()))
    note = f'<div class="small muted">{"; ".join(extra)}</div>' if extra else ""
    return svg + _legend(list(series)) + note


def plot_bars(plot: Plot) -> str:
    labels = [str(x) for x in plot.data["labels"]]
    series = {k: _num(v) for k, v in plot.data["series"].items()}
    n_series = max(len(series), 1)
    row_h = 6 * n_series + 6
    label_w = 150
    width = W
    height = PAD_T + row_h * len(labels) + 20
    top = max((v for vals in series.values() for v in vals if not math.isnan(v)), default=1.0) or 1.0
    scale = (width - label_w - 40) / top
    parts = []
    for r, label in enumerate(labels):
        y = PAD_T + r * row_h
        short = label if len(label) <= 24 else label[:23] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + row_h / 2 + 3:.1f}" text-anchor="end"><title>{esc(label)}</title>{esc(short)}</text>')
        for i, (name, values) in enumerate(series.items()):
            v = values[r] if r < len(values) and not math.isnan(values[r]) else 0.0
            parts.append(f'<rect x="{label_w}" y="{y + 3 + i * 6}" width="{max(v * scale, 0.5):.1f}" height="5" '
                         f'fill="{COLORS[i % len(COLORS)]}"><title>{esc(name)} {esc(label)}: {v:.4f}</title></rect>')
    parts.append(f'<line x1="{label_w}" y1="{PAD_T}" x2="{label_w}" y2="{height - 18}" stroke="#888"/>')
    parts.append(f'<text x="{width - 8}" y="{height - 4}" text-anchor="end">max {top:.3g}</text>')
    return _svg("".join(parts), width, height) + _legend(list(series))


def _heat_color(value: float, vmin: float, vmax: float) -> str:
    t = 0.0 if vmax <= vmin else min(max((value - vmin) / (vmax - vmin), 0.0), 1.0)
    r, g, b = (255, int(255 - 200 * t), int(255 - 220 * t))
    return f"rgb({r},{g},{b})"


def plot_heatmap(plot: Plot) -> str:
    labels = [str(x) for x in plot.data["labels"]]
    matrix = plot.data["matrix"]
    vmin = float(plot.data.get("vmin", 0.0))
    vmax = float(plot.data.get("vmax", max((v for row in matrix for v in row if v is not None), default=1.0)))
    n = len(labels)
    cell = max(10, min(26, 360 // max(n, 1)))
    label_w = 120
    width = label_w + cell * n + 10
    height = label_w + cell * n + 10
    parts = []
    for i, label in enumerate(labels):
        short = label if len(label) <= 18 else label[:17] + "…"
        y = label_w + i * cell + cell / 2 + 3
        parts.append(f'<text x="{label_w - 4}" y="{y:.1f}" text-anchor="end">{esc(short)}</text>')
        x = label_w + i * cell + cell / 2 + 3
        parts.append(f'<text x="{x:.1f}" y="{label_w - 4}" transform="rotate(-90 {x:.1f} {label_w - 4})">{esc(short)}</text>')
    for i in range(n):
        for j in range(n):
            v = matrix[i][j] if i < len(matrix) and j < len(matrix[i]) else None
            color = "#eef1f5" if v is None else _heat_color(float(v), vmin, vmax)
            tip = f"{labels[i]} × {labels[j]}: " + ("–" if v is None else f"{float(v):.3f}")
            parts.append(f'<rect x="{label_w + j * cell}" y="{label_w + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{color}"><title>{esc(tip)}</title></rect>')
    scale = (f'<div class="small muted">colour: white = {vmin:g} … red = {vmax:g} or more; hover a cell for its value</div>')
    return _svg("".join(parts), width, height) + scale


def _line_chart(curves: list[dict], *, diagonal: bool, x_label: str, y_label: str,
                x_range: tuple[float, float] | None = None, y_range: tuple[float, float] | None = None) -> str:
    xs = [x for c in curves for x in _num(c["x"]) if not math.isnan(x)]
    ys = [y for c in curves for y in _num(c["y"]) if not math.isnan(y)]
    x0, x1 = x_range or (min(xs, default=0.0), max(xs, default=1.0))
    y0, y1 = y_range or (min(ys, default=0.0), max(ys, default=1.0))
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1
    left, right, top, bottom = PAD_L, W - PAD_R, PAD_T, H - PAD_B

    def px(x, y):
        return left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top)

    parts = [_axes(x0, x1, y1, [(x0, f"{x0:.3g}"), (x1, f"{x1:.3g}")], f"{y1:.3g}")]
    parts.append(f'<text x="{(left + right) / 2}" y="{H - 8}" text-anchor="middle">{esc(x_label)}</text>')
    parts.append(f'<text x="12" y="{(top + bottom) / 2}" transform="rotate(-90 12 {(top + bottom) / 2})" '
                 f'text-anchor="middle">{esc(y_label)}</text>')
    if diagonal:
        (ax, ay), (bx, by) = px(x0, y0), px(x1, y1)
        parts.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#aaa" stroke-dasharray="4 3"/>')
    for i, c in enumerate(curves):
        pts = [px(x, y) for x, y in zip(_num(c["x"]), _num(c["y"])) if not (math.isnan(x) or math.isnan(y))]
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{COLORS[i % len(COLORS)]}" stroke-width="2">'
                     f'<title>{esc(c.get("name", ""))}</title></polyline>')
    return _svg("".join(parts)) + _legend([str(c.get("name", f"series {i + 1}")) for i, c in enumerate(curves)])


def plot_roc(plot: Plot) -> str:
    curves = [{"name": c.get("name", ""), "x": c["fpr"], "y": c["tpr"]} for c in plot.data["curves"]]
    return _line_chart(curves, diagonal=True, x_label="false-positive rate", y_label="true-positive rate",
                       x_range=(0.0, 1.0), y_range=(0.0, 1.0))


def plot_lines(plot: Plot) -> str:
    x = plot.data["x"]
    curves = [{"name": name, "x": x, "y": ys} for name, ys in plot.data["series"].items()]
    return _line_chart(curves, diagonal=False, x_label=str(plot.data.get("x_label", "")),
                       y_label=str(plot.data.get("y_label", "")))


def plot_image_grid(plot: Plot) -> str:
    images = plot.data["images"]
    labels = plot.data.get("labels") or []
    size = int(plot.data.get("size", 56))
    cells = []
    for i, image in enumerate(images):
        src = str(image)
        if not src.startswith("data:image/"):
            src = "data:image/png;base64," + src  # base64 PNG bytes, never a link
        label = f'<div class="small muted">{esc(labels[i])}</div>' if i < len(labels) else ""
        cells.append(f'<div style="text-align:center"><img src="{esc(src)}" width="{size}" height="{size}" '
                     f'style="image-rendering:pixelated" alt="{esc(labels[i]) if i < len(labels) else "image"}">{label}</div>')
    columns = int(plot.data.get("columns", 8))
    return (f'<div style="display:grid;grid-template-columns:repeat({columns},{size + 8}px);gap:4px">'
            + "".join(cells) + "</div>")


RENDERERS: dict[str, Callable[[Plot], str]] = {
    "histogram": plot_histogram,
    "bars": plot_bars,
    "heatmap": plot_heatmap,
    "roc": plot_roc,
    "lines": plot_lines,
    "image_grid": plot_image_grid,
}


def render_plot(plot: Plot) -> str:
    renderer = RENDERERS.get(plot.kind)
    try:
        if renderer is None:
            raise LookupError(f"no drawing for plot kind {plot.kind!r}")
        body = renderer(plot)
    except Exception as error:  # noqa: BLE001 - a bad plot must not cost the whole report
        data = json.dumps(plot.data, default=str)[:4000]
        body = (f'<div class="note">This plot cannot be drawn here ({esc(error)}); its data is in the JSON report.</div>'
                f"<details><summary>data</summary><pre>{esc(data)}</pre></details>")
    caption = f"<figcaption>{esc(plot.caption)}</figcaption>" if plot.caption else ""
    return f'<figure data-kind="{esc(plot.kind)}"><h3>{esc(plot.title)}</h3>{body}{caption}</figure>'


# ---------------------------------------------------------------------------------------------
# Page
# ---------------------------------------------------------------------------------------------

def _checks_table(checks: list[Check], *, with_section: dict[str, str] | None = None) -> str:
    head = ("<tr>" + ("<th>section</th>" if with_section else "")
            + "<th>check</th><th>value</th><th>gate</th><th>baseline (holdout or ideal)</th><th>verdict</th><th>meaning</th></tr>")
    rows = []
    for c in checks:
        section = f"<td>{esc(with_section.get(c.id, ''))}</td>" if with_section else ""
        rows.append(f'<tr data-check="{esc(c.id)}">{section}<td>{esc(c.title)}</td><td class="num">{fmt(c.value)}</td>'
                    f'<td class="num">{_threshold(c) if c.gate else "–"}</td><td class="num">{fmt(c.baseline)}</td>'
                    f"<td>{_verdict(c)}</td><td class=\"small\">{esc(c.meaning)}{_details(c)}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _details(check: Check) -> str:
    if not check.details:
        return ""
    items = []
    for key, value in check.details.items():
        if isinstance(value, dict):
            text = ", ".join(f"{k}: {fmt(v)}" for k, v in list(value.items())[:40])
        elif isinstance(value, list):
            text = ", ".join(esc(v) for v in value[:40])
        else:
            text = fmt(value)
        items.append(f"<div><span class=\"muted\">{esc(key.replace('_', ' '))}:</span> {text}</div>")
    return f"<details><summary class=\"muted\">details</summary>{''.join(items)}</details>"


def _expectation_rows(raw: dict[str, Any]) -> str:
    results = raw.get("results") or []
    if not results:
        return ""
    rows = []
    for r in sorted(results, key=lambda r: r.get("success", True)):
        result = r.get("result") or {}
        observed = result.get("observed_value")
        if observed is None and "unexpected_percent" in result:
            observed = f"{fmt(result.get('unexpected_percent'))}% unexpected ({fmt(result.get('unexpected_count'))} rows)"
        examples = result.get("unexpected_examples")
        if examples:
            observed = f"{observed}; unexpected values: {', '.join(map(str, examples[:10]))}"
        if isinstance(observed, list):
            observed = ", ".join(map(str, observed))
        elif isinstance(observed, float):
            observed = fmt(observed)
        kwargs = ", ".join(f"{k}={fmt(v) if isinstance(v, (int, float)) else esc(v)}" for k, v in (r.get("kwargs") or {}).items()
                           if k != "column_set")
        verdict = '<span class="ok">pass</span>' if r.get("success") else '<span class="bad">FAIL</span>'
        error = f'<div class="bad small">{esc(r["error"])}</div>' if r.get("error") else ""
        rows.append(f"<tr><td>{verdict}</td><td>{esc(r.get('expectation', ''))}</td><td>{esc(r.get('column') or '')}</td>"
                    f"<td class=\"small\">{kwargs}</td><td class=\"small\">{esc(observed) if observed is not None else '–'}{error}</td></tr>")
    docs = f'<p class="small muted">Great Expectations Data Docs: {esc(raw["data_docs"])}</p>' if raw.get("data_docs") else ""
    return (f"<details{' open' if raw.get('failed') else ''}><summary>All {len(results)} expectations "
            f"({fmt(raw.get('failed', 0))} failed)</summary><table><tr><th>verdict</th><th>expectation</th><th>column</th>"
            f"<th>parameters</th><th>observed</th></tr>{''.join(rows)}</table></details>{docs}")


def _section(section: Section) -> str:
    parts = [f'<section id="section-{esc(section.name)}"><h2>{esc(section.title)}</h2>']
    if section.summary:
        parts.append(f"<p>{esc(section.summary)}</p>")
    if section.checks:
        parts.append(_checks_table(section.checks))
    if section.plots:
        parts.append('<div class="grid">' + "".join(render_plot(p) for p in section.plots) + "</div>")
    if section.raw:
        if section.name == "expectations":
            parts.append(_expectation_rows(section.raw))
        else:
            text = json.dumps(section.raw, indent=1, default=str)[:20000]
            parts.append(f"<details><summary>raw results</summary><pre>{esc(text)}</pre></details>")
    parts.append("</section>")
    return "".join(parts)


def _provenance(report: Report) -> str:
    prov = dict(report.provenance)
    parts = ['<section id="provenance"><h2>Provenance</h2>']
    inputs = prov.pop("inputs", None)
    if isinstance(inputs, dict) and inputs:
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td class=\"num\">{fmt(v.get('rows'))}</td><td class=\"num\">{fmt(v.get('columns'))}</td>"
            f"<td class=\"small\"><code>{esc(v.get('sha256', ''))}</code></td></tr>"
            for k, v in inputs.items() if isinstance(v, dict))
        parts.append("<h3>Inputs</h3><table><tr><th>table</th><th>rows</th><th>columns</th><th>SHA-256 fingerprint</th></tr>"
                     f"{rows}</table>")
    packages = prov.pop("packages", None)
    policy = prov.pop("policy", None)
    simple = {k: v for k, v in prov.items() if not isinstance(v, (dict, list))}
    nested = {k: v for k, v in prov.items() if isinstance(v, (dict, list))}
    if simple:
        rows = "".join(f"<tr><th>{esc(k.replace('_', ' '))}</th><td>{esc(v)}</td></tr>" for k, v in simple.items())
        parts.append(f'<table class="kv">{rows}</table>')
    for key, value in nested.items():
        if isinstance(value, dict) and len(value) > 8 and all(not isinstance(v, (dict, list)) for v in value.values()):
            items = "".join(f"<div><b>{esc(k)}</b>: {esc(v)}</div>" for k, v in value.items())
            parts.append(f'<h3>{esc(key.replace("_", " "))}</h3><div class="kvgrid">{items}</div>')
        elif isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
            rows = "".join(f"<tr><th>{esc(k)}</th><td>{fmt(v) if isinstance(v, (int, float)) else esc(v)}</td></tr>"
                           for k, v in value.items())
            parts.append(f"<h3>{esc(key.replace('_', ' '))}</h3><table class=\"kv\">{rows}</table>")
        else:
            parts.append(f"<details><summary>{esc(key.replace('_', ' '))}</summary>"
                         f"<pre>{esc(json.dumps(value, indent=1, default=str))}</pre></details>")
    if packages:
        parts.append(f"<details><summary>package versions</summary><pre>{esc(json.dumps(packages, indent=1))}</pre></details>")
    if policy:
        parts.append(f"<details><summary>policy</summary><pre>{esc(json.dumps(policy, indent=1))}</pre></details>")
    parts.append("</section>")
    return "".join(parts)


def render(report: Report, *, title: str = "synthkit validation report") -> str:
    gates = report.gates()
    failed = report.failed_gates()
    section_of = {c.id: s.title for s in report.sections for c in s.checks}
    if not gates:
        verdict = '<div class="verdict pass" id="verdict" data-passed="true"><b>NO GATES</b>nothing was gated</div>'
    elif report.passed:
        verdict = (f'<div class="verdict pass" id="verdict" data-passed="true"><b>PASS</b>'
                   f"all {len(gates)} gates pass</div>")
    else:
        names = ", ".join(c.title for c in failed)
        verdict = (f'<div class="verdict fail" id="verdict" data-passed="false"><b>FAIL</b>'
                   f"{len(failed)} of {len(gates)} gates failed: {esc(names)}</div>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    body = [
        f"<h1>{esc(title)}</h1>",
        (f'<div class="muted small">{esc(report.modality)} data · created {esc(report.created_at)} · '
         f"report schema {esc(report.schema_version)}</div>"),
        verdict,
        "<h2>Gates</h2>",
        _checks_table(gates, with_section=section_of) if gates else "<p>No gates.</p>",
        f'<h3>Notes</h3><ul class="notes">{notes}</ul>' if notes else "",
        ('<p class="small muted">This report holds aggregates only (rates, scores, histograms, curves); it contains '
         "no real records and no per-record distances.</p>"),
        *(_section(s) for s in report.sections),
        _provenance(report),
    ]
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><main>"
            + "".join(body) + "</main></body></html>\n")
