"""`cfgwatch audit-secrets`: prove the snapshot history holds no secrets (exit 1 if anything is found)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.cli.common import console, err_console, state
from cfgwatch.errors import InputError
from cfgwatch.sanitize.audit import audit_history


def audit_secrets_cmd(
    ctx: typer.Context,
    repo: Annotated[
        Path | None,
        typer.Option("--repo", help="Git repository to scan (default: the configured snapshots repository)."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Scan every commit, file and commit message in the snapshot history (all refs) for anything that
    still looks like a secret, and report commit, file and line. The report masks what it found.

    Exit code 0 when clean, 1 when something was found, 2 on error.
    """
    if output_format not in ("text", "json"):
        raise InputError(f"unknown format {output_format!r} (use text or json)", key="--format")
    path = repo if repo is not None else state(ctx).config().snapshots_path
    result = audit_history(path)
    if output_format == "json":
        payload = {
            "repository": str(path),
            "commits": result.commits,
            "blobs": result.blobs,
            "clean": result.clean,
            "findings": [
                {"commit": f.commit, "path": f.path, "line": f.line, "rules": list(f.rules), "excerpt": f.excerpt}
                for f in result.findings
            ],
        }
        typer.echo(json.dumps(payload, indent=1))
    else:
        for f in result.findings:
            console.print(
                f"{f.commit[:12]} {f.path}:{f.line}  [{', '.join(f.rules)}]  {f.excerpt}",
                markup=False,
                soft_wrap=True,
            )
        summary = f"scanned {result.commits} commit(s), {result.blobs} file version(s) in {path}: "
        if result.clean:
            summary += "no secrets found"
        else:
            summary += f"{len(result.findings)} line(s) look like secrets"
        err_console.print(summary, markup=False, soft_wrap=True)
    if not result.clean:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("audit-secrets")(audit_secrets_cmd)
