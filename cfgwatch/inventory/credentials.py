"""Credentials by reference: the inventory names an environment variable or a file; values are read at use time.

Passwords never sit in the inventory, so the inventory can be committed, reviewed and shared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cfgwatch.errors import ConfigError


@dataclass(frozen=True, slots=True)
class CredentialRef:
    """Where a device's login comes from. Each part is a plain username, an env var name or a file path."""

    username: str | None = None
    username_env: str | None = None
    username_file: Path | None = None
    password_env: str | None = None
    password_file: Path | None = None
    secret_env: str | None = None  # enable secret (Cisco) when the platform needs one
    secret_file: Path | None = None
    key_file: Path | None = None  # SSH private key (OpenSSH or PEM); its passphrase by reference below
    passphrase_env: str | None = None
    passphrase_file: Path | None = None
    use_agent: bool = False  # offer the keys of the SSH agent ($SSH_AUTH_SOCK)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Resolved login. repr never shows the password, secret or key passphrase."""

    username: str | None
    password: str | None = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    key_files: tuple[Path, ...] = ()
    passphrase: str | None = field(default=None, repr=False)
    use_agent: bool = False

    @property
    def hidden(self) -> tuple[str, ...]:
        """The values that must never reach a log, an error text or a commit."""
        return tuple(v for v in (self.password, self.secret, self.passphrase) if v)


def _read(device: str, kind: str, env: str | None, file: Path | None) -> str | None:
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"device '{device}': environment variable {env} ({kind}_env) is not set")
        return value
    if file is not None:
        try:
            return file.expanduser().read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"device '{device}': cannot read {kind}_file: {exc.strerror}", path=file) from exc
    return None


def resolve(device: str, ref: CredentialRef) -> Credentials:
    """Read the referenced env vars/files now; a missing one is a ConfigError naming the device and the key."""
    username = _read(device, "username", ref.username_env, ref.username_file) or ref.username
    key_files: tuple[Path, ...] = ()
    if ref.key_file is not None:
        key = ref.key_file.expanduser()
        if not key.is_file():
            raise ConfigError(f"device '{device}': key_file {key} not found", path=key)
        key_files = (key,)
    return Credentials(
        username=username,
        password=_read(device, "password", ref.password_env, ref.password_file),
        secret=_read(device, "secret", ref.secret_env, ref.secret_file),
        key_files=key_files,
        passphrase=_read(device, "passphrase", ref.passphrase_env, ref.passphrase_file),
        use_agent=ref.use_agent,
    )
