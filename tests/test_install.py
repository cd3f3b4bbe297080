"""Installs without a clone and first steps as a new user takes them: the wheel in a fresh venv, the
Containerfile, the README's lab block run as written, and the settings `init` writes."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import yaml
from _wheel import build_wheel

from cfgwatch.config import load_config
from cfgwatch.demo import EVIL_DEVICE
from cfgwatch.policy.settings import PolicySettings
from cfgwatch.project import init_project

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_the_demo(tmp_path: Path) -> None:
    """A new venv (no --system-site-packages), the wheel installed into it by pip with --no-deps --no-index;
    the dependencies are this venv's site-packages, exposed by one .pth line (no network here). That
    directory holds cfgwatch only as an editable finder, which a .pth path line does not activate, so the
    cfgwatch that runs is the wheel's."""
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    fresh_site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    install = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "--python", str(python),
               "install", "--no-deps", "--no-index", str(wheel)]  # fmt: skip
    subprocess.run(install, capture_output=True, text=True, check=True)
    (fresh_site / "_cfgwatch_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1"}
    where = subprocess.run(
        [str(python), "-c", "import cfgwatch; print(cfgwatch.__file__)"], cwd=elsewhere, env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(fresh_site)), where.stdout
    done = subprocess.run(
        [str(venv / "bin" / "cfgwatch"), "demo", "--dir", str(elsewhere / "demo-out")],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[CRITICAL]" in done.stdout and EVIL_DEVICE in done.stdout


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) of a Containerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_containerfile_builds_a_small_non_root_image_with_a_project_volume() -> None:
    steps = _instructions(REPO / "Containerfile")
    froms = [args for word, args in steps if word == "FROM"]
    assert froms and all(f.startswith("python:3.11-slim") for f in froms)
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (word, _) in enumerate(final) if word == "USER")
    assert all(word != "RUN" for word, _ in final[last_user:])  # nothing runs as root after dropping it
    volumes = [args for word, args in final if word == "VOLUME"]
    workdir = [args for word, args in final if word == "WORKDIR"][-1]
    assert volumes and workdir in volumes[-1]
    assert any(word == "ENTRYPOINT" and "cfgwatch" in args for word, args in final)
    assert "pip install" in " ".join(args for word, args in steps if word == "RUN")
    assert "Containerfile" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client")
def test_containerfile_builds_when_a_docker_daemon_is_there(tmp_path: Path) -> None:
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("docker daemon not running (the Containerfile is linted by the test above)")
    tag = f"cfgwatch-test:{os.getpid()}"
    built = subprocess.run(["docker", "build", "-f", "Containerfile", "-t", tag, "."], cwd=REPO, capture_output=True)
    assert built.returncode == 0, built.stderr[-2000:]
    try:
        ran = subprocess.run(["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True)
        assert ran.returncode == 0 and "cfgwatch" in ran.stdout.lower()
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def test_ci_installs_python3_venv() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"apt-get install[^\n]*\bpython3-venv\b", ci)


def test_init_writes_a_commented_policy_section_with_the_defaults(tmp_path: Path) -> None:
    init_project(tmp_path)
    text = (tmp_path / "cfgwatch.yaml").read_text(encoding="utf-8")
    assert re.search(r"^policy:\n  fail_on: high +# ", text, re.M)
    assert "change_windows" in text and "# store:" in text and "deadline" in text
    config = load_config(tmp_path / "cfgwatch.yaml")
    assert config.policy == PolicySettings()
    # the commented examples are valid once uncommented
    uncommented = re.sub(r"^(\s*)# ?(?=\s*(default|dmz):)", r"\1", text, flags=re.M).replace("groups: {}", "groups:")
    raw = yaml.safe_load(uncommented)
    assert PolicySettings.model_validate(raw["policy"]).groups["dmz"].nat_changes_allowed is False


def _free_port_base(count: int) -> int:
    """A base port with `count` free ports after it (checked by binding each)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count >= 65000:
            continue
        socks = []
        try:
            for port in range(base, base + count + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


@pytest.mark.slow
def test_readme_lab_block_runs_as_written(tmp_path: Path) -> None:
    """The README's bash block, run by bash in a copy of the clone's inventory/ and snapshots/. Only the
    port base changes (to free ports; the inventory copy is moved with it)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"so from a clone \(bash;.*?\n```bash\n(.*?)```", readme, re.S)
    assert block is not None
    script = block.group(1)
    assert "cfgwatch init ." in script and "cfgwatch lab wait" in script
    clone = tmp_path / "clone"
    shutil.copytree(REPO / "inventory", clone / "inventory")
    (clone / "snapshots").mkdir()
    shutil.copy(REPO / "snapshots" / "README.md", clone / "snapshots" / "README.md")
    hosts_path = clone / "inventory" / "hosts.yaml"
    hosts = yaml.safe_load(hosts_path.read_text(encoding="utf-8"))
    base = _free_port_base(len(hosts) + 1)
    assert sorted(h["port"] for h in hosts.values()) == list(range(2201, 2201 + len(hosts)))
    text = hosts_path.read_text(encoding="utf-8")
    for port in sorted((h["port"] for h in hosts.values()), reverse=True):
        text = text.replace(f"port: {port}\n", f"port: {base + port - 2201}\n")
    hosts_path.write_text(text, encoding="utf-8")
    script = script.replace("--port-base 2201", f"--port-base {base}")
    bindir = str(Path(sys.executable).parent)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1", "COLUMNS": "200"}
    # its own session, so whatever it leaves running (if it fails half-way) is stopped by this PID's group
    proc = subprocess.Popen(
        ["bash", "-c", script], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    assert f"lab ready: {len(hosts)} devices" in output, output
    assert "CRITICAL" in output.upper() and "core-rtr-01" in output
    assert "failed dc-eos-01: timeout" in output, output
    runs = subprocess.run(
        ["git", "--git-dir", str(clone / "snapshots"), "log", "--format=%s"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(runs) == 2, runs
    assert proc.returncode == 0, output  # `kill $LAB` last: the lab was still running then
    ready = clone / ".cfgwatch" / "lab" / "ready.json"
    deadline = time.monotonic() + 10
    while ready.exists() and time.monotonic() < deadline:  # the lab removes it when SIGTERM stops it
        time.sleep(0.1)
    assert not ready.exists()
