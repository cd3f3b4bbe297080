"""Report formats by name (the `cfgwatch.report_formats` registry): what `cfgwatch audit --format` and
`cfgwatch diff --format` write.

Each built-in format is declared next to its renderer (`console.TEXT`, `findings.JSON`, `siem.JSONL`,
`tabular.CSV`, `tabular.MARKDOWN`, `html.HTML`, `sarif.SARIF`) and named in cfgwatch's pyproject.toml;
choosing a format imports only its own module. A site package adds a format, or replaces a built-in one, by
declaring an entry point of its own under the same group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cfgwatch.plugins import REPORT_FORMATS_GROUP, Registry, instance_of

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cfgwatch.audit import AuditResult
    from cfgwatch.revisions import DiffResult


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """One way to write reports.

    `render` writes an audit (text, or bytes for binary formats); `tty`, when given, is what an
    interactive terminal shows instead of `render`'s text on stdout; `render_changes`, when given, writes
    the rule-level changes of `cfgwatch diff` (a format without it is for audits only).
    """

    render: Callable[[AuditResult], str | bytes]
    tty: Callable[[AuditResult], RenderableType] | None = None
    render_changes: Callable[[DiffResult], str] | None = None


REPORT_FORMATS: Registry[ReportFormat] = Registry(
    REPORT_FORMATS_GROUP, "report format", validate=instance_of(ReportFormat)
)
