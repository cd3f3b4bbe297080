"""Push the snapshot repository to `store.remote` after each run, so the history lives in two places.

Never forced: a push the remote rejects (someone else's commits are there) is reported and the local
commit stays; every later run pushes again, so once the remote is sorted out nothing is missing. The
push is one `git push --porcelain URL refs/heads/<ours>:refs/heads/<branch>`: the URL is given on the
command line, never written to the repository's config. HTTPS credentials reach git through a
credential helper (set with `-c` for this command only) that reads them from the push's environment,
and any credential value is scrubbed from the text reported. SSH remotes check the server's host key
strictly (BatchMode, StrictHostKeyChecking=yes) against known_hosts.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cfgwatch.store.message import one_line
from cfgwatch.store_settings import RemoteSettings

# Outcomes of a push: ok ones first.
PUSH_STATES = ("pushed", "up-to-date", "rejected", "failed")
USERNAME_VAR = "CFGWATCH_PUSH_USERNAME"
PASSWORD_VAR = "CFGWATCH_PUSH_PASSWORD"
# Answers git's `get` with the two variables; ignores `store`/`erase`, so nothing is saved anywhere.
_HELPER = f'!f() {{ test "$1" = get || exit 0; echo "username=${USERNAME_VAR}"; echo "password=${PASSWORD_VAR}"; }}; f'
_SCP_LIKE = re.compile(r"^[^/:]+:(?!//)")  # user@host:path (OpenSSH scp syntax), not C:/ or a URL


@dataclass(frozen=True, slots=True)
class PushResult:
    """What pushing the snapshot repo did. `detail` is safe to log (credentials scrubbed)."""

    remote: str  # the URL without user info
    branch: str
    state: str  # one of PUSH_STATES
    commit: str | None  # the local commit offered
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in ("pushed", "up-to-date")

    def text(self) -> str:
        where = f"{self.remote} {self.branch}"
        if self.ok:
            return f"push {self.state}: {where}" + (f" at {self.commit[:12]}" if self.commit else "")
        return f"push {self.state.upper()}: {where}: {self.detail}"

    def to_json(self) -> dict[str, str | None]:
        return {"remote": self.remote, "branch": self.branch, "state": self.state, "commit": self.commit,
                "detail": self.detail}  # fmt: skip


def display_url(url: str) -> str:
    """The URL with any user info removed (`https://tok@host/x` -> `https://host/x`)."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url, flags=re.IGNORECASE)


def _is_ssh(url: str) -> bool:
    return url.lower().startswith(("ssh://", "git+ssh://")) or bool(_SCP_LIKE.match(url))


def _target(url: str, base_dir: Path) -> str:
    """A relative path is relative to the project folder, like every other path in cfgwatch.yaml."""
    if "://" in url or _is_ssh(url):
        return url
    path = Path(url).expanduser()
    return str(path if path.is_absolute() else base_dir / path)


def push_environment(settings: RemoteSettings, base_dir: Path) -> tuple[list[str], dict[str, str], tuple[str, ...]]:
    """(git options before `push`, environment, values to scrub) for a push to settings.url.

    Raises LookupError when the configured password cannot be read (names the variable/file only).
    """
    options = ["-c", "credential.helper="]  # forget the user's helpers: nothing is stored by this push
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    hidden: tuple[str, ...] = ()
    if settings.password is not None:
        password = settings.password.read(base_dir)
        env[USERNAME_VAR] = settings.username or "git"
        env[PASSWORD_VAR] = password
        options += ["-c", f"credential.helper={_HELPER}"]
        hidden = (password,)
    if _is_ssh(settings.url):
        known = (settings.known_hosts or Path("~/.ssh/known_hosts")).expanduser()
        known = known if known.is_absolute() else base_dir / known
        command = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}"]
        if settings.ssh_key is not None:
            key = settings.ssh_key.expanduser()
            command += ["-i", str(key if key.is_absolute() else base_dir / key), "-o", "IdentitiesOnly=yes"]
        env["GIT_SSH_COMMAND"] = shlex.join(command)
    return options, env, hidden


def _scrub(text: str, hidden: tuple[str, ...]) -> str:
    for value in hidden:
        text = text.replace(value, "***")
    return display_url(text)


def push(git_dir: Path, local_ref: str, settings: RemoteSettings, base_dir: Path) -> PushResult:
    """Push `local_ref` of the repository at git_dir to the remote branch (fast-forward only)."""
    remote = display_url(settings.url)
    head = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "--verify", "-q", local_ref],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    commit = head.stdout.strip() or None
    if commit is None:
        return PushResult(remote, settings.branch, "up-to-date", None, "no runs yet: nothing to push")
    try:
        options, env, hidden = push_environment(settings, base_dir)
    except LookupError as exc:
        return PushResult(remote, settings.branch, "failed", commit, f"credentials: {exc}")
    refspec = f"{local_ref}:refs/heads/{settings.branch}"  # no leading '+': never forced
    argv = ["git", "--git-dir", str(git_dir), *options, "push", "--porcelain", _target(settings.url, base_dir), refspec]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=settings.timeout, check=False)
    except subprocess.TimeoutExpired:
        return PushResult(remote, settings.branch, "failed", commit, f"no answer within {settings.timeout:g}s")
    except OSError as exc:
        return PushResult(remote, settings.branch, "failed", commit, f"cannot run git: {exc.strerror}")
    out = _scrub(proc.stdout + "\n" + proc.stderr, hidden)
    flags = [line.split("\t", 1)[0] for line in proc.stdout.splitlines() if "\t" in line]
    if proc.returncode == 0:
        state = "up-to-date" if flags and all(f == "=" for f in flags) else "pushed"
        return PushResult(remote, settings.branch, state, commit)
    if "[rejected]" in out or "non-fast-forward" in out or "fetch first" in out:
        detail = (
            f"the remote {settings.branch} has commits this repository lacks; nothing was forced and the local "
            "commit is kept: it is pushed again after every run until the remote is fast-forwardable"
        )
        return PushResult(remote, settings.branch, "rejected", commit, detail)
    lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith(("To ", "Done"))]
    detail = one_line("\n".join(lines[-3:]) or "git push failed", 300)
    return PushResult(remote, settings.branch, "failed", commit, detail)
