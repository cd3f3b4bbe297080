"""The HTML report: one self-contained file (no CDN, no fetches, works offline) a reviewer can open anywhere.

Contents: a summary, filters by severity / device / category (a few lines of inline JS; the state can
also come from the URL fragment, e.g. ``report.html#severity=critical&device=edge1``), and per finding
its before/after rules and config lines, attribution, ticket, flow verdict and figures.

Flow chart: when the finding's flow figures carry a `series` (typed `SeriesPoint`s: interval start,
outbound packets, return packets) the finding gets an inline SVG chart of outbound vs return packets over
time with the change time marked; without at least two points no chart is drawn. Everything from
configs, tickets and logs is HTML-escaped, and a Content-Security-Policy forbids any network access from
the page.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from cfgwatch import __version__
from cfgwatch.audit import AuditResult
from cfgwatch.flows.figures import SeriesPoint
from cfgwatch.model.changes import SourceLines
from cfgwatch.policy.findings import ATTACK
from cfgwatch.policy.settings import SEVERITIES
from cfgwatch.report.coverage import coverage_html
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.view import ATTACK_URL, FindingView, finding_views

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_STYLE = """
:root{--crit:#8b0000;--high:#c0392b;--med:#d68910;--low:#2471a3;--info:#7f8c8d;--bg:#fafafa;--fg:#1c1c1c}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
header,main{max-width:1100px;margin:0 auto;padding:12px 20px}
header{border-bottom:1px solid #ddd}
h1{font-size:22px;margin:8px 0}h2{font-size:18px}h3{font-size:16px;margin:0 0 8px}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med)}
.sev-low{background:var(--low)}.sev-info{background:var(--info)}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
.finding{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:14px 0}
.finding dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:8px 0}
.finding dt{font-weight:600}.finding dd{margin:0}
pre{background:#f6f8fa;padding:8px;overflow-x:auto;margin:4px 0}
.del{background:#ffeef0;color:#86181d;display:block}.ins{background:#e6ffed;color:#144620;display:block}
.filters label{margin-right:14px}.muted{color:#666}
.chart{max-width:100%;height:auto;background:#fff}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
"""

_SCRIPT = """
(function () {
  "use strict";
  var ids = ["severity", "device", "category"];
  function current() {
    var state = {};
    ids.forEach(function (name) { state[name] = document.getElementById("filter-" + name).value; });
    return state;
  }
  function matches(el, state) {
    if (state.severity && el.getAttribute("data-severity") !== state.severity) { return false; }
    if (state.device && el.getAttribute("data-device") !== state.device) { return false; }
    if (state.category) {
      var cats = (el.getAttribute("data-categories") || "").split(" ");
      if (cats.indexOf(state.category) < 0) { return false; }
    }
    return true;
  }
  function apply() {
    var state = current();
    var shown = 0;
    document.querySelectorAll("[data-finding]").forEach(function (el) {
      var ok = matches(el, state);
      el.hidden = !ok;
      if (ok && el.classList.contains("finding")) { shown += 1; }
    });
    document.getElementById("shown-count").textContent = String(shown);
  }
  function fromHash() {
    var text = window.location.hash.replace(/^#/, "");
    if (!text) { return; }
    text.split("&").forEach(function (pair) {
      var parts = pair.split("=");
      var select = document.getElementById("filter-" + decodeURIComponent(parts[0] || ""));
      if (select && parts.length > 1) { select.value = decodeURIComponent(parts[1]); }
    });
  }
  ids.forEach(function (name) {
    document.getElementById("filter-" + name).addEventListener("change", apply);
  });
  fromHash();
  apply();
  document.body.setAttribute("data-ready", "1");
})();
"""


def esc(value: object) -> str:
    """HTML-escape anything (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


# --- the flow chart --------------------------------------------------------------------------------------


def series_points(series: Iterable[SeriesPoint]) -> list[SeriesPoint]:
    """The points of a series in time order (the chart draws left to right)."""
    return sorted(series, key=lambda point: point.t)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def flow_chart_svg(points: list[SeriesPoint], change_time: datetime | None, *, title: str = "") -> str:
    """Inline SVG: outbound (red) and return (blue) packets per interval, the change time as a dashed line."""
    if len(points) < 2:
        return ""
    width, height, left, right, top, bottom = 640, 220, 56, 16, 24, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    start, end = points[0].t, points[-1].t
    if change_time is not None and change_time.tzinfo is None:
        change_time = change_time.replace(tzinfo=UTC)
    if change_time is not None:
        start, end = min(start, change_time), max(end, change_time)
    span = max((end - start).total_seconds(), 1.0)
    top_value = _nice_max(max(max(p.outbound_packets, p.return_packets) for p in points))

    def x(when: datetime) -> float:
        return left + plot_w * (when - start).total_seconds() / span

    def y(value: float) -> float:
        return top + plot_h * (1 - value / top_value)

    def line(values: Iterable[tuple[datetime, float]]) -> str:
        return " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in values)

    parts = [
        f'<svg class="chart" data-chart="flow" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-label="{esc(title or "outbound vs return packets")}">',
        f"<title>{esc(title or 'outbound vs return packets')}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#ccc"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = top_value * fraction
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">{value:g}</text>'
        )
    for when, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x(when):.1f}" y="{height - 22}" font-size="11" text-anchor="{anchor}">'
            f"{esc(when.strftime('%Y-%m-%d %H:%M'))}</text>"
        )
    if change_time is not None:
        cx = x(change_time)
        parts.append(
            f'<line class="change-marker" x1="{cx:.1f}" x2="{cx:.1f}" y1="{top}" y2="{top + plot_h}"'
            f' stroke="#333" stroke-dasharray="4 3"/>'
            f'<text x="{cx + 4:.1f}" y="{top + 12}" font-size="11">change</text>'
        )
    parts.append(
        f'<polyline class="series-outbound" fill="none" stroke="#c0392b" stroke-width="2"'
        f' points="{line((p.t, p.outbound_packets) for p in points)}"/>'
        f'<polyline class="series-return" fill="none" stroke="#2471a3" stroke-width="2"'
        f' points="{line((p.t, p.return_packets) for p in points)}"/>'
    )
    legend_y = height - 6
    parts.append(
        f'<rect x="{left}" y="{legend_y - 9}" width="12" height="4" fill="#c0392b"/>'
        f'<text x="{left + 16}" y="{legend_y - 4}" font-size="11">outbound packets</text>'
        f'<rect x="{left + 140}" y="{legend_y - 9}" width="12" height="4" fill="#2471a3"/>'
        f'<text x="{left + 156}" y="{legend_y - 4}" font-size="11">return packets</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- the page --------------------------------------------------------------------------------------------


def _lines_html(lines: SourceLines | None, css: str, marker: str) -> str:
    if lines is None:
        return ""
    return "".join(
        f'<span class="{css}">{marker} {lines.start + offset:>5} | {esc(text)}</span>'
        for offset, text in enumerate(lines.lines)
    )


def _figures_table(view: FindingView) -> str:
    rows = []
    figures = view.figures_json
    for key in sorted(figures):
        if key in ("series", "top_destinations"):
            continue
        value = figures[key]
        shown = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)
        rows.append(f"<tr><th>{esc(key)}</th><td>{esc(shown)}</td></tr>")
    if view.top_destinations:
        heads = ["prefix", "asn", "org", "provider_class", "packets", "return_packets", "new"]
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(shown[h])}</td>" for h in heads) + "</tr>"
            for shown in (item.to_json() for item in view.top_destinations)
        )
        rows.append(
            "<tr><th>top destinations</th><td><table><tr>"
            + "".join(f"<th>{esc(h)}</th>" for h in heads)
            + f"</tr>{body}</table></td></tr>"
        )
    return f'<table class="figures">{"".join(rows)}</table>' if rows else ""


def _attrs(view: FindingView) -> str:
    return (
        f'data-finding="{esc(view.id)}" data-severity="{esc(view.severity)}"'
        f' data-device="{esc(view.device)}" data-categories="{esc(" ".join(view.categories))}"'
    )


def finding_html(view: FindingView) -> str:
    affected = view.affected_text
    ticket = view.ticket
    ticket_text = (
        f"{ticket.matched or 'none'} ({ticket.how}{', approved' if ticket.approved else ', not approved'})"
        + (f"; referenced: {', '.join(ticket.referenced)}" if ticket.referenced else "")
    )
    items = [
        ("Change", f"{view.change} {view.family}: {view.rule}"),
        ("Rule comment", view.comment or "-"),
        ("Enables", ", ".join(view.enables) or "-"),
        ("Why", "; ".join(view.reasons) or "-"),
        ("Flags", ", ".join(view.flags) or "-"),
        ("Who", view.user or "unknown"),
        ("When", view.when or "unknown"),
        ("From", view.origin or "unknown"),
        ("Attribution", view.how + (f": {view.evidence}" if view.evidence else "")),
        ("Ticket", ticket_text),
        ("Approval", view.approval or "none"),
        (
            "Affected",
            f"internal {affected.internal or '-'}; public {affected.public or '-'}; "
            f"translated {affected.translated or '-'}; ports {affected.ports or '-'}",
        ),
        ("Revisions", f"{(view.rev_before or '-')[:12]} → {(view.rev_after or '-')[:12]}"),
    ]
    if view.commit_comment:
        items.append(("Commit comment", view.commit_comment))
    details = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in items)
    config = _lines_html(view.lines_before, "del", "-") + _lines_html(view.lines_after, "ins", "+")
    chart = flow_chart_svg(
        series_points(view.series),
        view.change_time,
        title=f"{view.device}: outbound vs return packets around the change",
    )
    flow_notes = "".join(f"<li>{esc(note)}</li>" for note in view.flow.notes)
    return (
        f'<section class="finding" id="{esc(view.id)}" {_attrs(view)}>'
        f'<h3><span class="sev sev-{esc(view.severity)}">{esc(view.severity)}</span> '
        f"<code>{esc(view.id)}</code> {esc(view.device)} "
        f'<span class="muted">({esc(view.platform)})</span></h3>'
        f"<dl>{details}</dl>"
        "<h4>Rules</h4><table><tr><th>before</th><th>after</th></tr>"
        f"<tr><td><code>{esc(view.before)}</code></td>"
        f"<td><code>{esc(view.after)}</code></td></tr></table>"
        + (f"<h4>Config lines</h4><pre>{config}</pre>" if config else "")
        + f'<h4>Flow verdict: <span class="verdict">{esc(view.flow.verdict)}</span></h4>'
        + (f"<ul>{flow_notes}</ul>" if flow_notes else "")
        + _figures_table(view)
        + chart
        + "</section>"
    )


def _options(name: str, values: Iterable[str]) -> str:
    options = "".join(f'<option value="{esc(value)}">{esc(value)}</option>' for value in values)
    return f'<label>{esc(name)} <select id="filter-{esc(name)}"><option value="">all</option>{options}</select></label>'


def audit_html(result: AuditResult, *, title: str = "cfgwatch audit report") -> str:
    """The whole report as one HTML document (pure function of the audit result)."""
    findings = finding_views(result.findings)
    by_severity = Counter(view.severity for view in findings)
    severities = [name for name in reversed(SEVERITIES) if by_severity[name]]
    devices = sorted({view.device for view in findings})
    categories = sorted({category for view in findings for category in view.categories})
    runs = "".join(
        f"<tr><td><code>{esc(pair.before.commit[:12])}</code> → <code>{esc(pair.after.commit[:12])}</code></td>"
        f"<td>{esc(pair.before.time.isoformat())}</td><td>{esc(pair.after.time.isoformat())}</td></tr>"
        for pair in result.pairs
    )
    summary_counts = ", ".join(f"{by_severity[name]} {name}" for name in severities) or "none"
    table_rows = "".join(
        f"<tr {_attrs(view)}>"
        f'<td><a href="#{esc(view.id)}"><code>{esc(view.id)}</code></a></td>'
        f'<td><span class="sev sev-{esc(view.severity)}">{esc(view.severity)}</span></td>'
        f"<td>{esc(view.device)}</td><td>{esc(', '.join(view.enables))}</td>"
        f"<td>{esc(', '.join(view.flags))}</td><td>{esc(view.user or 'unknown')}</td>"
        f"<td>{esc(view.ticket.matched or 'none')}</td><td>{esc(view.flow.verdict)}</td></tr>"
        for view in findings
    )
    problems = "".join(f"<li>{esc(problem)}</li>" for problem in result.problems)
    body = [
        "<header>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="muted">cfgwatch {esc(__version__)} · generated {esc(result.generated.isoformat())} · '
        f'ATT&amp;CK <a href="{esc(ATTACK_URL)}">{esc(ATTACK["technique"])}</a> {esc(ATTACK["technique_name"])}, '
        f"{esc(ATTACK['detection_strategy'])} / {esc(ATTACK['analytic'])}</p>",
        "</header><main>",
        '<section id="summary"><h2>Summary</h2>',
        f'<p><strong id="finding-count">{len(findings)}</strong> finding(s) ({esc(summary_counts)}) from '
        f"{len(result.changes)} change(s) in {len(result.pairs)} run pair(s); worst: "
        f"<strong>{esc(result.worst() or 'none')}</strong>.</p>",
        f"<table><tr><th>runs compared</th><th>before</th><th>after</th></tr>{runs}</table>" if runs else "",
        "</section>",
    ]
    if findings:
        body += [
            '<section id="filters" class="filters"><h2>Findings</h2>',
            _options("severity", severities),
            _options("device", devices),
            _options("category", categories),
            f' <span class="muted"><span id="shown-count">{len(findings)}</span> shown</span>',
            "</section>",
            '<table id="findings-table"><tr><th>id</th><th>severity</th><th>device</th><th>enables</th>'
            f"<th>flags</th><th>who</th><th>ticket</th><th>flow</th></tr>{table_rows}</table>",
            *(finding_html(view) for view in findings),
        ]
    else:
        body.append("<p>No findings.</p>")
    if problems:
        body.append(f'<section id="problems"><h2>Problems</h2><ul>{problems}</ul></section>')
    body.append(coverage_html(result, esc))
    body.append("</main>")
    script = f"<script>{_SCRIPT}</script>" if findings else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}{script}</body></html>\n"
    )


# Registered as report format "html" in pyproject.toml (audits only).
HTML = ReportFormat(audit_html)
