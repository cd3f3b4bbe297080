"""`cfgwatch demo`: run the whole pipeline on the built-in lab and say where the results are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.cli.common import console, err_console


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_command(
        directory: Annotated[
            Path, typer.Option("--dir", help="Folder for the demo project (snapshots, flows, report, evidence).")
        ] = Path("demo-out"),
        force: Annotated[bool, typer.Option("--force", help="Replace a previous demo in that folder.")] = False,
    ) -> None:
        """The whole pipeline end to end on the built-in lab: pull, change, pull, flows, audit, report, evidence."""
        from cfgwatch.demo import run_demo  # the lab, flows and reports load only when the demo runs

        result = run_demo(
            directory, force=force, say=lambda message: err_console.print(message, markup=False, soft_wrap=True)
        )
        audit = result.audit
        console.print(f"\ncfgwatch demo finished in {result.seconds:.1f} s", markup=False, soft_wrap=True)
        for finding in audit.findings:
            flow = finding.flow
            console.print(
                f"  [{finding.severity.upper()}] {finding.id} {finding.device}: "
                f"{', '.join(finding.categories + finding.tags)}; flags {', '.join(finding.flags)}; "
                f"flow {flow.verdict}",
                markup=False,
                soft_wrap=True,
            )
        approved = sum(1 for review in audit.reviews if review.finding_id is None)
        console.print(
            f"  {approved} change(s) without a finding (approved, or no effect on traffic)",
            markup=False,
            soft_wrap=True,
        )
        console.print(f"report:   {result.report}", markup=False, soft_wrap=True)
        console.print(
            f"evidence: {result.evidence} (check it: cfgwatch export verify {result.evidence})",
            markup=False,
            soft_wrap=True,
        )
        console.print(
            f"project:  {result.directory} (try: cfgwatch -c {result.directory}/cfgwatch.yaml audit)",
            markup=False,
            soft_wrap=True,
        )
