"""`store:` settings of cfgwatch.yaml (the snapshot repo's remote), light enough for cfgwatch.config to import."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from cfgwatch.notify.settings import Secret
from cfgwatch.section import Section

_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]*@", re.IGNORECASE)


class RemoteSettings(Section):
    """`store.remote`: where every run's snapshot commits are pushed (never forced).

    url: `git@host:org/snapshots.git`, `ssh://...`, `https://...`, or a path / `file://` URL.
    HTTPS credentials come from `username` + `password` (env: or file:, a token works), handed to git by a
    credential helper reading them from the push's environment: never in the URL, git config or logs.
    SSH uses `ssh_key` and checks the server's key strictly against `known_hosts`.
    """

    url: str
    branch: str = "main"
    username: str | None = None
    password: Secret | None = None
    ssh_key: Path | None = None
    known_hosts: Path | None = None  # default ~/.ssh/known_hosts (OpenSSH's)
    timeout: float = Field(default=120.0, gt=0)  # seconds a push may take

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, value: str) -> str:
        if _URL_PASSWORD.match(value):
            raise ValueError("no password in the URL: give store.remote.password as env: or file:")
        if not value.strip():
            raise ValueError("empty URL")
        return value

    @field_validator("branch")
    @classmethod
    def _plain_branch(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", value) or value.startswith(("-", "/")) or ".." in value:
            raise ValueError(f"not a usable branch name: {value!r}")
        return value

    @model_validator(mode="after")
    def _password_needs_https(self) -> RemoteSettings:
        if self.password is not None and not self.url.lower().startswith(("https://", "http://")):
            raise ValueError("password is for https:// remotes (SSH remotes use ssh_key)")
        return self


class StoreSettings(Section):
    """`store:` in cfgwatch.yaml."""

    remote: RemoteSettings | None = None
    # a plain copy of each pulled device's stored text in the state directory (store-copies/, mode 0600), so
    # an unchanged pull compares bytes instead of hashing (about 0.6x the CPU); costs disk equal to the texts
    pull_copies: bool = True
