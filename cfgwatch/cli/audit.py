"""`cfgwatch diff`, `cfgwatch audit` and `cfgwatch approve`: the change-review commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.audit import AuditResult
from cfgwatch.cli.common import console, err_console, state
from cfgwatch.report.changes import changes_json, changes_markdown, changes_text
from cfgwatch.report.console import audit_renderable
from cfgwatch.report.findings import audit_json, audit_text
from cfgwatch.report.html import audit_html
from cfgwatch.report.siem import audit_jsonl
from cfgwatch.report.tabular import audit_csv, audit_markdown


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class AuditFormat(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"
    html = "html"


_AUDIT_RENDERERS: dict[AuditFormat, Callable[[AuditResult], str]] = {
    AuditFormat.text: audit_text,
    AuditFormat.json: lambda result: audit_json(result) + "\n",
    AuditFormat.jsonl: audit_jsonl,
    AuditFormat.csv: audit_csv,
    AuditFormat.markdown: audit_markdown,
    AuditFormat.html: audit_html,
}


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff_command(
        ctx: typer.Context,
        rev_a: Annotated[str | None, typer.Argument(help="Older revision (default: the run before the last).")] = None,
        rev_b: Annotated[str | None, typer.Argument(help="Newer revision (default: the last run, or HEAD).")] = None,
        device: Annotated[list[str] | None, typer.Option("--device", "-d", help="Only these devices.")] = None,
        fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")] = DiffFormat.text,
    ) -> None:
        """Rule-level changes between two snapshots (NAT, ACL, bindings), classified by what they enable."""
        result = state(ctx).project().diff(rev_a, rev_b, devices=device or None)
        renderers = {
            DiffFormat.text: changes_text,
            DiffFormat.json: changes_json,
            DiffFormat.markdown: changes_markdown,
        }
        typer.echo(renderers[fmt](result), nl=False)

    @app.command("audit")
    def audit_command(
        ctx: typer.Context,
        since: Annotated[
            str | None,
            typer.Option("--since", help="Audit every run since REV or DURATION (7d, 24h); default: last run."),
        ] = None,
        fmt: Annotated[AuditFormat, typer.Option("--format", "-f", help="Output format.")] = AuditFormat.text,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
        ] = None,
        flows: Annotated[
            bool, typer.Option("--flows/--no-flows", help="Check the flow store for traffic on each new path.")
        ] = True,
    ) -> None:
        """Findings: changes nobody approved or ticketed, with who/when, severity and ATT&CK mapping.

        Exit code 1 when a finding is at or above `policy.fail_on` (default high).
        """
        project = state(ctx).project()
        with project.flow_checker(flows) as checker:
            result = project.audit(since=since, flow_checker=checker)
        if fmt is AuditFormat.text and output is None and console.is_terminal:
            console.print(audit_renderable(result))
        else:
            _emit(_AUDIT_RENDERERS[fmt](result), output)
        if result.fails(project.config.policy.fail_on):
            raise typer.Exit(1)

    @app.command("approve")
    def approve_command(
        ctx: typer.Context,
        finding_id: Annotated[str, typer.Argument(help="The finding id from `cfgwatch audit` (CW-...).")],
        ticket: Annotated[str, typer.Option("--ticket", help="Change ticket that approves it.")],
        owner: Annotated[str, typer.Option("--owner", help="Who owns the approved rule.")] = "network-team",
        expires: Annotated[str | None, typer.Option("--expires", help="Approval expiry date (YYYY-MM-DD).")] = None,
        reason: Annotated[str, typer.Option("--reason", help="Why it is approved.")] = "",
    ) -> None:
        """Approve one finding: appends it to inventory/approved.yaml so the next audit treats it as expected."""
        project = state(ctx).project()
        expiry = None
        if expires is not None:
            try:
                expiry = date.fromisoformat(expires)
            except ValueError as exc:
                raise typer.BadParameter(f"--expires {expires!r} is not a date like 2027-01-31") from exc
        path = project.approve(finding_id, ticket=ticket, owner=owner, expires=expiry, reason=reason)
        console.print(f"approved {finding_id} with {ticket} in {path}")
