"""Unknown names are errors (issue 16 item 5): exit 2, one line naming what was not found and the closest."""

from __future__ import annotations

from pathlib import Path

import pytest
from _report_fixtures import build_project

from tests.conftest import Cli


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("names")).base_dir


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("diff", "--device", "edge"), "unknown device 'edge' in either revision (closest: 'edge1')"),
        (("diff", "HEAD~1", "HEAD", "--device", "fw1", "--device", "fw2"), "unknown device 'fw2'"),
        (("diff", "HAED~1", "HEAD"), "unknown revision 'HAED~1' in the snapshot repository (closest: 'HEAD')"),
        (("pull", "--device", "edge2"), "not in the inventory: device 'edge2' (closest: 'edge1')"),
        (("pull", "--group", "brnch"), "not in the inventory: group 'brnch' (closest: 'branch')"),
        (("approvals", "revoke", "nope"), "unknown approval 'nope' (none known)"),
        (("audit", "--no-flows", "--since", "HAED"), "nor a known revision (closest: 'HEAD')"),
        (("show", "edge"), "device 'edge' is not in the snapshot at HEAD (closest: 'edge1')"),
        (("log", "--device", "fw2"), "device 'fw2' has never been snapshotted (closest: 'fw1')"),
    ],
)
def test_unknown_name_exits_2_with_one_line(project_dir: Path, cli: Cli, args: tuple[str, ...], message: str) -> None:
    code, out, err = cli(*args, cwd=project_dir)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_known_device_still_diffs(project_dir: Path, cli: Cli) -> None:
    code, _, err = cli("diff", "HEAD~2", "HEAD", "--device", "edge1", "--format", "json", cwd=project_dir)
    assert code == 0, err
