"""`cfgwatch export`: the evidence bundle; `export verify` checks one; `export keygen` makes a signing key."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.cli.common import err_console, state
from cfgwatch.errors import InputError
from cfgwatch.report.evidence import (
    HISTORY_FILE,
    SIGN_PASSPHRASE_ENV,
    VerifyResult,
    generate_key,
    key_fingerprint,
    load_private_key,
    load_public_key,
    read_bundle,
    verify_bundle,
)
from cfgwatch.terminal import printable


def parse_when(text: str, option: str, *, end_of_day: bool) -> datetime:
    """YYYY-MM-DD (start or end of that day, UTC) or an ISO-8601 time (naive times are UTC)."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{option} {text!r} is not a date (2026-11-01) or time (2026-11-01T22:00:00Z)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    export_app = typer.Typer(
        help="Compliance evidence: export a signed, hash-listed bundle for a period, or verify one.",
        invoke_without_command=True,
        no_args_is_help=False,
    )

    @export_app.callback()
    def export_command(
        ctx: typer.Context,
        date_from: Annotated[
            str | None, typer.Option("--from", help="Start: YYYY-MM-DD (00:00 UTC) or an ISO-8601 time.")
        ] = None,
        date_to: Annotated[
            str | None, typer.Option("--to", help="End: YYYY-MM-DD (through 23:59:59 UTC) or an ISO-8601 time.")
        ] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="A new or empty folder, or FILE.zip.")] = None,
        sign_key: Annotated[
            Path | None,
            typer.Option(
                "--sign-key",
                help=f"Ed25519 private key (PEM or OpenSSH) to sign with; passphrase in ${SIGN_PASSPHRASE_ENV}.",
            ),
        ] = None,
        flows: Annotated[
            bool, typer.Option("--flows/--no-flows", help="Check the flow store for traffic on each new path.")
        ] = True,
    ) -> None:
        """Evidence bundle for the runs in [--from, --to]: findings, changes, approvals, coverage, manifest.

        The same range exported twice gives byte-identical files. Exit 0 when written, 2 on bad input.
        """
        if ctx.invoked_subcommand is not None:
            return
        missing = [name for name, value in (("--from", date_from), ("--to", date_to), ("--out", out)) if not value]
        if missing:
            raise typer.BadParameter(f"missing {', '.join(missing)} (or use `cfgwatch export verify PATH`)")
        assert date_from is not None and date_to is not None and out is not None
        start = parse_when(date_from, "--from", end_of_day=False)
        end = parse_when(date_to, "--to", end_of_day=True)
        key = load_private_key(sign_key) if sign_key is not None else None
        project = state(ctx).project()
        with project.flow_checker(flows) as checker:
            written = project.export(start, end, out, signing_key=key, flow_checker=checker)
        evidence = written.evidence
        approved = evidence.approval_counts()
        signed = f", signed by {key_fingerprint(key.public_key())}" if key is not None else ", unsigned"
        typer.echo(
            f"evidence {start.isoformat()} .. {end.isoformat()}: {len(evidence.decisions)} change(s), "
            f"{len(evidence.audit.findings)} finding(s), {approved['approved_in_advance']} approved in advance, "
            f"{approved['approved_after_the_fact']} after the fact, {len(written.files)} file(s){signed} "
            f"-> {written.path}"
        )

    @export_app.command("verify")
    def verify_command(
        bundle: Annotated[Path, typer.Argument(help="The bundle folder or .zip file.")],
        public_key: Annotated[
            Path | None,
            typer.Option("--public-key", help="Require a signature by this Ed25519 key (PEM or ssh-ed25519)."),
        ] = None,
        approvals_history: Annotated[
            Path | None,
            typer.Option(
                "--approvals-history", help="Also require every approval-history commit of the bundle in this repo."
            ),
        ] = None,
    ) -> None:
        """Check every SHA-256 in manifest.json, the signature and the approval history's commit chain.
        Exit 0 intact, 1 tampered, 2 bad input."""
        key = load_public_key(public_key) if public_key is not None else None
        result = verify_bundle(bundle, key)
        if approvals_history is not None:
            result = with_live_history(result, bundle, approvals_history)
        for name in result.altered:
            typer.echo(f"ALTERED  {printable(name)}")
        for name in result.missing:
            typer.echo(f"MISSING  {printable(name)}")
        for name in result.extra:
            typer.echo(f"EXTRA    {printable(name)}")
        for problem in result.problems:
            typer.echo(f"PROBLEM  {printable(problem)}")
        signature = {
            "valid": f"signature valid ({result.key_source} key {result.key})",
            "invalid": "signature INVALID: manifest.json or manifest.sig was altered, or another key signed it",
            "absent": "unsigned (hashes only: a rewritten manifest.json cannot be detected)",
            "missing": "signature MISSING: the bundle is not signed",
        }[result.signature]
        if result.key_source == "embedded" and result.signature == "valid":
            signature += "; pass --public-key to pin the signer"
        verdict = "OK" if result.ok else "TAMPERED"
        typer.echo(f"{verdict}: {result.files} file(s) checked; {signature}")
        if not result.ok:
            raise typer.Exit(1)

    @export_app.command("keygen")
    def keygen_command(
        path: Annotated[
            Path, typer.Argument(help="Where to write the private key (PEM); PATH.pub gets the public key.")
        ],
    ) -> None:
        """Make an Ed25519 key pair for `cfgwatch export --sign-key` (keep the private key off the bundle host)."""
        public = generate_key(path)
        err_console.print(f"wrote {path} (private, mode 600) and {public}", markup=False, highlight=False)

    app.add_typer(export_app, name="export")


def with_live_history(result: VerifyResult, bundle: Path, repository: Path) -> VerifyResult:
    """The result with a problem per bundle history commit the live approval history does not hold."""
    import json
    from dataclasses import replace

    from cfgwatch.policy.history import ApprovalHistory, missing_from

    files = read_bundle(bundle)
    if HISTORY_FILE not in files:
        return replace(result, problems=(*result.problems, f"{HISTORY_FILE}: not in the bundle"))
    try:
        commits = [str(entry["id"]) for entry in json.loads(files[HISTORY_FILE])["commits"]]
    except (ValueError, KeyError, TypeError) as exc:
        return replace(result, problems=(*result.problems, f"{HISTORY_FILE}: unreadable ({exc})"))
    missing = missing_from(ApprovalHistory(repository), commits)
    extra = tuple(f"{HISTORY_FILE}: commit {commit[:12]} is not in {repository}" for commit in missing)
    return replace(result, problems=(*result.problems, *extra))
