"""The per-installation HMAC key that makes redaction markers comparable but not reversible.

The key lives in the state directory (never in the snapshot repository): with it, equal secrets
give equal markers across runs; without it, a marker in git says nothing about the secret.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cfgwatch.errors import InputError

KEY_FILE = "sanitize.key"
KEY_BYTES = 32
_MIN_KEY_BYTES = 16


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def load_or_create_key(state_dir: Path, *, snapshots: Path | None = None) -> bytes:
    """Read the key from ``state_dir/sanitize.key``, creating it (mode 0600) on first use.

    Creation is atomic (write a temp file, then hard-link it into place), so two runs starting
    together agree on one key. ``snapshots`` (optional) guards against a state dir configured
    inside the snapshot repository, where the key would be committed next to the markers.
    """
    state_dir = Path(state_dir)
    if snapshots is not None and _inside(state_dir, Path(snapshots)):
        raise InputError("the state directory must not be inside the snapshot repository", path=state_dir)
    path = state_dir / KEY_FILE
    if not path.exists():
        try:
            state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = state_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_bytes(KEY_BYTES))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another run created it first: use theirs
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the sanitize key: {exc.strerror}", path=path) from exc
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InputError(
                f"key file is accessible by group/others (mode {stat.S_IMODE(mode):04o}); run chmod 600", path=path
            )
        key = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the sanitize key: {exc.strerror}", path=path) from exc
    if len(key) < _MIN_KEY_BYTES:
        raise InputError(f"key file is too short ({len(key)} bytes, need {_MIN_KEY_BYTES})", path=path)
    return key
