"""`cfgwatch diff`, `cfgwatch audit` and `cfgwatch approve`: the change-review commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.cli.common import console, err_console, one_of, registered, state
from cfgwatch.policy.approved import is_retroactive
from cfgwatch.report.formats import REPORT_FORMATS
from cfgwatch.terminal import echo, wide


def _emit(report: str | bytes, output: Path | None, *, fold: bool = False) -> None:
    """To a file, or stdout (`fold`: plain text folded at spaces on a terminal, see cfgwatch.terminal.fold)."""
    if output is None:
        if fold and isinstance(report, str):
            echo(console, report)
        else:
            typer.echo(report, nl=False)
    else:
        if isinstance(report, bytes):
            output.write_bytes(report)
        else:
            output.write_text(report, encoding="utf-8")
        err_console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff_command(
        ctx: typer.Context,
        rev_a: Annotated[str | None, typer.Argument(help="Older revision (default: the run before the last).")] = None,
        rev_b: Annotated[str | None, typer.Argument(help="Newer revision (default: the last run, or HEAD).")] = None,
        device: Annotated[list[str] | None, typer.Option("--device", "-d", help="Only these devices.")] = None,
        fmt: Annotated[
            str,
            typer.Option(
                "--format",
                "-f",
                parser=registered(REPORT_FORMATS),
                help=f"Output format: a report format that renders changes (registered: {one_of(REPORT_FORMATS)}).",
            ),
        ] = "text",
    ) -> None:
        """Rule-level changes between two snapshots (NAT, ACL, bindings), classified by what they enable."""
        render = REPORT_FORMATS.get(fmt).render_changes
        if render is None:
            able = ", ".join(name for name, report in REPORT_FORMATS.items() if report.render_changes is not None)
            raise typer.BadParameter(
                f"report format {fmt!r} renders audits only (use one of: {able})", param_hint="--format"
            )
        result = state(ctx).project().diff(rev_a, rev_b, devices=device or None)
        _emit(render(result), None, fold=fmt == "text")

    @app.command("audit")
    def audit_command(
        ctx: typer.Context,
        since: Annotated[
            str | None,
            typer.Option("--since", help="Audit every run since REV or DURATION (7d, 24h); default: last run."),
        ] = None,
        fmt: Annotated[
            str,
            typer.Option(
                "--format", "-f", parser=registered(REPORT_FORMATS), help=f"Output format: {one_of(REPORT_FORMATS)}."
            ),
        ] = "text",
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
        report = REPORT_FORMATS.get(fmt)
        project = state(ctx).project()
        with project.flow_checker(flows) as checker:
            result = project.audit(since=since, flow_checker=checker)
        if report.tty is not None and output is None and wide(console):  # else the list layout of `render`
            console.print(report.tty(result))
        else:
            _emit(report.render(result), output, fold=fmt == "text")
        if result.fails(project.config.policy.fail_on):
            raise typer.Exit(1)

    @app.command("approve")
    def approve_command(
        ctx: typer.Context,
        finding_id: Annotated[
            str | None,
            typer.Argument(help="A finding id the audit shows (CW-...); omit with --force and match options."),
        ] = None,
        ticket: Annotated[str, typer.Option("--ticket", help="Change ticket (must exist and be approved).")] = "",
        by: Annotated[
            str | None, typer.Option("--by", help="Who approves (default: git user.name, else $USER).")
        ] = None,
        reason: Annotated[str, typer.Option("--reason", help="Why it is approved.")] = "",
        owner: Annotated[
            str | None, typer.Option("--owner", help="Who owns the approved rule (default: the approver).")
        ] = None,
        expires: Annotated[str | None, typer.Option("--expires", help="Approval expiry date (YYYY-MM-DD).")] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Look the finding up in every run since REV or DURATION.")
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Pre-approve: an id not (yet) found, or a match; recorded as such.")
        ] = False,
        allow_unapproved_ticket: Annotated[
            bool,
            typer.Option("--allow-unapproved-ticket", help="Record it although the ticket is not approved (flagged)."),
        ] = False,
        devices: Annotated[list[str] | None, typer.Option("--device", help="--force match: device.")] = None,
        family: Annotated[
            str | None, typer.Option("--family", help="--force match: nat|filter|binding|object.")
        ] = None,
        dst: Annotated[list[str] | None, typer.Option("--dst", help="--force match: destination prefix.")] = None,
        ports: Annotated[
            str | None, typer.Option("--ports", help="--force match: ports, e.g. 443 or 8000-8100.")
        ] = None,
    ) -> None:
        """Approve a finding the audit shows under an approved ticket, recording who, when and why.

        The entry goes to inventory/approved.yaml and is committed to the approval history. Unknown ids and
        unknown or unapproved tickets are refused (exit 2)."""
        if not ticket:
            raise typer.BadParameter("missing --ticket", param_hint="--ticket")
        expiry = None
        if expires is not None:
            try:
                expiry = date.fromisoformat(expires)
            except ValueError as exc:
                raise typer.BadParameter(f"--expires {expires!r} is not a date like 2027-01-31") from exc
        match: dict[str, object] = {}
        if devices:
            match["devices"] = list(devices)
        if family:
            match["family"] = family
        if dst:
            match["dst"] = list(dst)
        if ports:
            match["ports"] = ports
        approval = (
            state(ctx)
            .project()
            .approve(
                finding_id,
                ticket=ticket,
                by=by,
                owner=owner,
                expires=expiry,
                reason=reason,
                since=since,
                force=force,
                allow_unapproved_ticket=allow_unapproved_ticket,
                match=match or None,
            )
        )
        flags = " (pre-approval)" if approval.mode == "pre-approval" else ""
        if is_retroactive(approval.approved_at, approval.change_time):
            flags += " RETROACTIVE (approved after the change)"
        if approval.unapproved_ticket:
            flags += f" [ticket not approved: {approval.ticket_status}]"
        console.print(
            f"approved {finding_id or approval.id} with {approval.ticket} by {approval.approved_by} at "
            f"{approval.approved_at.isoformat() if approval.approved_at else '?'}{flags} as {approval.id}",
            markup=False,
        )
