"""The HTML report: one self-contained file (no CDN, no fetches, works offline) a reviewer can open anywhere.

Contents: a summary, filters by severity / device / category (a few lines of inline JS; the state can
also come from the URL fragment, e.g. ``report.html#severity=critical&device=edge1``), and per finding
its before/after rules and config lines, attribution, ticket, flow verdict and figures.

Flow figures read as figures (units, thousands separators, ratios as %: `cfgwatch.report.readable`). Flow
chart: when the finding's flow figures carry a `series` (typed `SeriesPoint`s: interval start, outbound
packets, return packets) the finding gets an inline SVG step chart of outbound vs return packets per bucket,
with axis units and the change time marked; without at least two points no chart is drawn. A rollback
block (when the view carries one) has a Copy button.

Everything from configs, tickets and logs is HTML-escaped. The Content-Security-Policy forbids any network
access from the page and allows exactly the page's own style sheet and script by their SHA-256 hashes (no
'unsafe-inline'): an injected script or style does not run even if escaping ever failed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cfgwatch import __version__
from cfgwatch.audit import AuditResult
from cfgwatch.flows.figures import SeriesPoint
from cfgwatch.model.changes import SourceLines
from cfgwatch.policy.findings import ATTACK
from cfgwatch.policy.settings import SEVERITIES
from cfgwatch.report.coverage import coverage_html
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.readable import count, duration, figure_lines, figure_rows, moment, percent, plural, size
from cfgwatch.report.view import ATTACK_URL, FindingView, finding_views

_STYLE = """
:root{--crit:#8b0000;--high:#c0392b;--med:#d68910;--low:#2471a3;--info:#7f8c8d;--bg:#fafafa;--fg:#1c1c1c}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
header,main{max-width:1100px;margin:0 auto;padding:12px 20px}
header{border-bottom:1px solid #ddd}
h1{font-size:22px;margin:8px 0}h2{font-size:18px}h3{font-size:16px;margin:0 0 8px}h5{margin:4px 0;font-size:13px}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med)}
.sev-low{background:var(--low)}.sev-info{background:var(--info)}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
caption{text-align:left;font-weight:600;padding:4px 0}
.scroll{overflow-x:auto;max-width:100%}
.scroll td code{white-space:nowrap}
.finding{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:14px 0;min-width:0}
.finding dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 14px;margin:8px 0}
.finding dt{font-weight:600}.finding dd{margin:0;overflow-wrap:anywhere}
.rules{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,320px),1fr));gap:10px}
.rules>div{min-width:0}.rules code{overflow-wrap:anywhere}
pre{background:#f6f8fa;padding:8px;overflow-x:auto;margin:4px 0;max-width:100%}
.del{background:#ffeef0;color:#86181d;display:block}.ins{background:#e6ffed;color:#144620;display:block}
.copy-head{display:flex;align-items:center;gap:10px}.copy-head h4{margin:8px 0}
button.copy{font:inherit;font-size:12px;padding:2px 10px;border:1px solid #aaa;border-radius:4px;background:#f6f6f6}
.filters label{margin-right:14px;display:inline-block}.filters select{max-width:100%}.muted{color:#666}
.chart-box{overflow-x:auto;max-width:100%}
.chart{width:100%;max-width:680px;height:auto;background:#fff;display:block}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
@media (max-width:600px){header,main{padding:8px 10px}.finding{padding:10px}
.finding dl{grid-template-columns:minmax(0,1fr)}.finding dd{margin-bottom:4px}
.chart{min-width:460px}}
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
  function copied(button, ok) {
    button.textContent = ok ? "Copied" : "Select and copy";
    window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
  }
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { copied(button, true); },
          function () { copied(button, fallbackCopy(text)); }
        );
      } else {
        copied(button, fallbackCopy(text));
      }
    });
  });
  fromHash();
  apply();
  document.body.setAttribute("data-ready", "1");
})();
"""


def csp_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline script or style text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str = _SCRIPT, style: str = _STYLE) -> str:
    """No network, no plugins, no base or form targets; only this style sheet and this script may run."""
    return (
        f"default-src 'none'; style-src {csp_hash(style)}; script-src {csp_hash(script)}; img-src data:;"
        " base-uri 'none'; form-action 'none'"
    )


CSP = content_security_policy()


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


def bucket_length(points: list[SeriesPoint]) -> timedelta:
    """The interval one point counts (the smallest gap between consecutive starts; the audit's buckets are
    equal and start at the change time, see `cfgwatch.audit.flow_series`)."""
    gaps = [later.t - earlier.t for earlier, later in itertools.pairwise(points) if later.t > earlier.t]
    return min(gaps) if gaps else timedelta(hours=1)


def _offset_label(offset: timedelta) -> str:
    if not offset:
        return "change"
    sign = "+" if offset > timedelta(0) else "-"
    return f"{sign}{duration(abs(offset))}"


def flow_chart_svg(points: list[SeriesPoint], change_time: datetime | None, *, title: str = "") -> str:
    """Inline SVG step chart: outbound (red) and return (blue) packets per bucket, the change as a dashed line.

    A step chart, not a line through the points: each bucket is drawn flat over the interval it counts, so
    the outbound line rises exactly at the edge of the first bucket that had the traffic. The audit's buckets
    start at the change time, so a path the change opened never appears to carry traffic before it. Every
    bucket is also a transparent `rect.bucket` with its interval and counts (tooltip, and what tests read).
    """
    if len(points) < 2:
        return ""
    width, height, left, right, top, bottom = 580, 260, 60, 18, 28, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    step = bucket_length(points)
    start, end = points[0].t, points[-1].t + step
    if change_time is not None and change_time.tzinfo is None:
        change_time = change_time.replace(tzinfo=UTC)
    if change_time is not None:
        start, end = min(start, change_time), max(end, change_time)
    span = max((end - start).total_seconds(), 1.0)
    top_value = _nice_max(max(max(p.outbound_packets, p.return_packets) for p in points))
    unit = f"packets per {duration(step)}"
    label = title or "outbound vs return packets"

    def x(when: datetime) -> float:
        return left + plot_w * (when - start).total_seconds() / span

    def y(value: float) -> float:
        return top + plot_h * (1 - value / top_value)

    def steps(values: list[int]) -> str:
        vertices: list[str] = []
        for index, (point, value) in enumerate(zip(points, values, strict=True)):
            edge_end = points[index + 1].t if index + 1 < len(points) else point.t + step
            vertices += [f"{x(point.t):.1f},{y(value):.1f}", f"{x(min(edge_end, point.t + step)):.1f},{y(value):.1f}"]
        return " ".join(vertices)

    parts = [
        f'<svg class="chart" data-chart="flow" data-unit="{esc(unit)}" xmlns="http://www.w3.org/2000/svg"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{esc(label)}">',
        f"<title>{esc(label)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#ccc"/>',
    ]
    if change_time is not None:  # the time after the change, lightly shaded
        shade = x(change_time)
        parts.append(
            f'<rect class="after-change" x="{shade:.1f}" y="{top}" width="{left + plot_w - shade:.1f}"'
            f' height="{plot_h}" fill="#fdf2f2"/>'
        )
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        value = top_value * fraction
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="12" text-anchor="end">{count(round(value))}</text>'
        )
    parts.append(f'<text class="axis-unit" x="{left}" y="{top - 16}" font-size="12" fill="#444">{esc(unit)}</text>')
    # x axis: a tick at every bucket edge, labelled relative to the change (at most ~8 labels)
    edges = [point.t for point in points] + [points[-1].t + step]
    every = -(-len(edges) // 7)  # at most ~7 labels, counted from the change so "change" is one of them
    anchor_time = change_time or start
    for edge in edges:
        ex = x(edge)
        parts.append(f'<line x1="{ex:.1f}" x2="{ex:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#999"/>')
        offset = edge - anchor_time
        buckets_away = round(offset / step)
        if not offset or (buckets_away % every == 0 and abs(x(anchor_time) - ex) > 30):
            parts.append(
                f'<text class="x-tick" x="{ex:.1f}" y="{top + plot_h + 16}" font-size="12" text-anchor="middle">'
                f"{esc(_offset_label(offset))}</text>"
            )
    axis_text = f"time relative to the change ({moment(anchor_time)}); {duration(step)} buckets"
    if change_time is None:
        axis_text = f"time from {moment(start)}; {duration(step)} buckets"
    parts.append(
        f'<text class="axis-time" x="{left + plot_w / 2:.1f}" y="{top + plot_h + 32}" font-size="12"'
        f' text-anchor="middle" fill="#444">{esc(axis_text)}</text>'
    )
    if change_time is not None:
        cx = x(change_time)
        parts.append(
            f'<line class="change-marker" x1="{cx:.1f}" x2="{cx:.1f}" y1="{top}" y2="{top + plot_h}"'
            f' stroke="#333" stroke-dasharray="4 3" data-t="{esc(change_time.isoformat())}"/>'
            f'<text x="{cx:.1f}" y="{top - 3}" font-size="12" text-anchor="middle">change</text>'
        )
    parts.append(
        f'<polyline class="series-outbound" fill="none" stroke="#c0392b" stroke-width="2"'
        f' points="{steps([p.outbound_packets for p in points])}"/>'
        f'<polyline class="series-return" fill="none" stroke="#2471a3" stroke-width="2"'
        f' points="{steps([p.return_packets for p in points])}"/>'
    )
    for point in points:  # hover targets: one per bucket, with its interval and counts
        bx, bw = x(point.t), x(point.t + step) - x(point.t)
        tip = (
            f"{moment(point.t).removesuffix(' UTC')} to {moment(point.t + step)}: "
            f"{plural(point.outbound_packets, 'outbound packet')}, {plural(point.return_packets, 'return packet')}"
        )
        straddles = change_time is not None and point.t < change_time < point.t + step
        if straddles:  # a series not aligned to the change: say so rather than let it look like traffic before it
            tip += "; this bucket holds traffic from both before and after the change"
        css, paint = (
            ("bucket straddles-change", 'fill="#000" fill-opacity="0.08"') if straddles else ("bucket", 'fill="none"')
        )
        parts.append(
            f'<rect class="{css}" x="{bx:.1f}" y="{top}" width="{bw:.1f}" height="{plot_h}" {paint}'
            ' pointer-events="all"'
            f' data-t="{esc(point.t.isoformat())}" data-outbound="{point.outbound_packets}"'
            f' data-return="{point.return_packets}"><title>{esc(tip)}</title></rect>'
        )
    legend_y = height - 8
    parts.append(
        f'<rect x="{left}" y="{legend_y - 9}" width="12" height="4" fill="#c0392b"/>'
        f'<text x="{left + 16}" y="{legend_y - 4}" font-size="12">outbound packets</text>'
        f'<rect x="{left + 140}" y="{legend_y - 9}" width="12" height="4" fill="#2471a3"/>'
        f'<text x="{left + 156}" y="{legend_y - 4}" font-size="12">return packets</text>'
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


def _scroll(table: str) -> str:
    """A table that may be wider than a phone scrolls inside its box, never the page."""
    return f'<div class="scroll">{table}</div>'


_NUMBER_UNIT = re.compile(r"(\d) (h|d|min|s|B|kB|MB|GB|TB|PB|%)(?![\w])")


def _unit_nbsp(text: str) -> str:
    """A number and its unit never split across lines ('24&nbsp;h')."""
    return _NUMBER_UNIT.sub(r"\1&nbsp;\2", text)


def figures_html(view: FindingView) -> str:
    """The flow figures as labelled, readable values (units, separators, %) and the top destinations."""
    measured = view.flow.measured
    if measured is None:
        lines = figure_lines(view.flow.figures)
        return "".join(f'<p class="figures muted">{esc(line)}</p>' for line in lines)
    rows = "".join(
        f'<dt>{esc(figure.label)}</dt><dd data-figure="{esc(figure.key)}">{_unit_nbsp(esc(figure.value))}</dd>'
        for figure in figure_rows(measured)
    )
    out = f'<dl class="figures">{rows}</dl>'
    if measured.top_destinations:
        heads = ("destination", "example host", "AS", "class", "packets", "bytes", "flows", "returned", "new")
        body = "".join(
            "<tr>"
            f"<td><code>{esc(item.prefix)}</code></td><td><code>{esc(item.sample_address or '-')}</code></td>"
            f"<td>{esc(' '.join(p for p in (f'AS{item.asn}' if item.asn else 'unknown', item.org) if p))}</td>"
            f"<td>{esc(item.provider_class or 'unclassified')}</td>"
            f'<td class="num">{count(item.packets)}</td><td class="num">{esc(size(item.bytes))}</td>'
            f'<td class="num">{count(item.flows)}</td>'
            f'<td class="num">{esc(percent(item.return_packets / item.packets if item.packets else None))}</td>'
            f"<td>{'new' if item.new else 'seen before'}</td></tr>"
            for item in measured.top_destinations
        )
        head = "".join(f"<th>{esc(name)}</th>" for name in heads)
        out += _scroll(f'<table class="destinations"><caption>top destinations</caption><tr>{head}</tr>{body}</table>')
    return out


def copy_block(title: str, lines: Sequence[str], *, block_id: str, note: str = "") -> str:
    """A titled code block with a Copy button (the page script copies the block's text to the clipboard).

    The slot the rollback commands fill (and any other text a reviewer pastes into a device session).
    """
    text = "\n".join(lines)
    return (
        f'<div class="copyable"><div class="copy-head"><h4>{esc(title)}</h4>'
        f'<button type="button" class="copy" data-copy="{esc(block_id)}">Copy</button></div>'
        + (f'<p class="muted">{esc(note)}</p>' if note else "")
        + f'<pre id="{esc(block_id)}">{esc(text)}</pre></div>'
    )


def _rollback_of(view: FindingView) -> Any:
    """The rollback the view carries (`view.rollback`: method, syntax, commands, note), or None."""
    return getattr(view, "rollback", None)


def _rollback_html(view: FindingView) -> str:
    """The rollback commands with a Copy button, headed by how they were derived; the note says why there
    are none when there are none."""
    rollback = _rollback_of(view)
    if rollback is None:
        return ""
    how = f"{getattr(rollback, 'method', '')} {getattr(rollback, 'syntax', '')}".strip()
    title = f"Rollback ({how}; not applied by cfgwatch)" if how else "Rollback (not applied by cfgwatch)"
    commands = tuple(str(command) for command in getattr(rollback, "commands", ()))
    note = str(getattr(rollback, "note", "") or "")
    if commands:
        return copy_block(title, commands, block_id=f"rollback-{view.id}", note=note)
    return f"<h4>{esc(title)}</h4>" + (f'<p class="muted">{esc(note)}</p>' if note else "")


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
        + _rules_html(view)
        + _rollback_html(view)
        + f'<h4>Flow verdict: <span class="verdict">{esc(view.flow.verdict)}</span></h4>'
        + (f"<ul>{flow_notes}</ul>" if flow_notes else "")
        + figures_html(view)
        + (f'<div class="chart-box">{chart}</div>' if chart else "")
        + "</section>"
    )


def _rules_html(view: FindingView) -> str:
    """Before and after side by side (stacked on a narrow screen): the rule, then its config lines."""
    halves = []
    for name, rule, lines, css, marker in (
        ("before", view.before, view.lines_before, "del", "-"),
        ("after", view.after, view.lines_after, "ins", "+"),
    ):
        config = _lines_html(lines, css, marker)
        halves.append(
            f'<div class="rule-{name}"><h5>{name}</h5><p><code>{esc(rule)}</code></p>'
            + (f"<pre>{config}</pre>" if config else '<p class="muted">no config lines</p>')
            + "</div>"
        )
    return f'<h4>Rules and config lines</h4><div class="rules">{"".join(halves)}</div>'


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
        _scroll(f"<table><tr><th>runs compared</th><th>before</th><th>after</th></tr>{runs}</table>") if runs else "",
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
            _scroll(
                '<table id="findings-table"><tr><th>id</th><th>severity</th><th>device</th><th>enables</th>'
                f"<th>flags</th><th>who</th><th>ticket</th><th>flow</th></tr>{table_rows}</table>"
            ),
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
