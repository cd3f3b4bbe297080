"""`cfgwatch approvals list|show|revoke`: the recorded approvals, with approver, time and history."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cfgwatch.approvals import ApprovalRecord, show_approval
from cfgwatch.cli.common import console, state
from cfgwatch.errors import InputError


def _line(record: ApprovalRecord) -> str:
    data = record.to_json()
    when = data["approved_at"] or "time unknown"
    flags = f" [{', '.join(record.flags)}]" if record.flags else ""
    return (
        f"{data['id']}  {record.status}  ticket {data['ticket']} ({data['ticket_status']})  "
        f"by {data['approved_by'] or 'unknown'} at {when}{flags}"
    )


def _check_format(fmt: str) -> str:
    if fmt not in ("text", "json"):
        raise InputError(f"--format {fmt!r} is not one of: text, json")
    return fmt


def register(app: typer.Typer) -> None:
    approvals_app = typer.Typer(help="Recorded approvals: list, show one with its history, revoke.")

    @approvals_app.command("list")
    def list_command(
        ctx: typer.Context,
        fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    ) -> None:
        """Every approval: id, status, ticket and its status, approver, time, flags (retroactive, ...)."""
        _check_format(fmt)
        project = state(ctx).project()
        records = project.approvals()
        if fmt == "json":
            typer.echo(json.dumps([record.to_json() for record in records], indent=2))
            return
        for record in records:
            console.print(_line(record), markup=False, soft_wrap=True)
        from cfgwatch.approvals import approval_history, approved_path

        if approval_history(project.config).pending(approved_path(project.config)):
            console.print("note: approved.yaml has edits not in the approval history (made by hand)", markup=False)
        if not records:
            console.print("no approvals", markup=False)

    @approvals_app.command("show")
    def show_command(
        ctx: typer.Context,
        approval_id: Annotated[str, typer.Argument(help="The approval id (from `approvals list`).")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    ) -> None:
        """One approval in full, with every history commit that touched it."""
        _check_format(fmt)
        record = show_approval(state(ctx).project(), approval_id)
        data = record.to_json()
        if fmt == "json":
            typer.echo(json.dumps(data, indent=2))
            return
        console.print(_line(record), markup=False, soft_wrap=True)
        for key in ("mode", "match", "owner", "reason", "expires", "change_time", "retroactive", "revoked"):
            console.print(f"  {key}: {data[key]}", markup=False, soft_wrap=True)
        console.print(f"  approved_at from: {data['approved_at_source']}", markup=False)
        for commit in data["history"]:
            console.print(
                f"  commit {commit['commit'][:12]} {commit['time']} {commit['author']}: {commit['message']}",
                markup=False,
                soft_wrap=True,
            )

    @approvals_app.command("revoke")
    def revoke_command(
        ctx: typer.Context,
        approval_id: Annotated[str, typer.Argument(help="The approval id to withdraw.")],
        by: Annotated[
            str | None, typer.Option("--by", help="Who revokes (default: git user.name, else $USER).")
        ] = None,
        reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
    ) -> None:
        """Withdraw an approval: kept in approved.yaml as revoked (who, when, why), committed to the history."""
        approval = state(ctx).project().revoke(approval_id, by=by, reason=reason)
        assert approval.revoked is not None
        console.print(
            f"revoked {approval_id} by {approval.revoked.by} at {approval.revoked.at.isoformat()}", markup=False
        )

    app.add_typer(approvals_app, name="approvals")
