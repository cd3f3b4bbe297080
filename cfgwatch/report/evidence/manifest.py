"""The bundle's integrity layer: manifest.json (SHA-256 and size of every file), the optional Ed25519
signature over it, the signing keys, and `verify_bundle`, which recomputes it all on a bundle folder or zip."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import posixpath
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cfgwatch import __version__
from cfgwatch.errors import InputError

FORMAT = "cfgwatch-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
HISTORY_FILE = "approval-history.json"  # the approval history's commits with their raw git objects
PUBLIC_KEY = "manifest.pub"
_CONTROL_FILES = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})
SIGN_PASSPHRASE_ENV = "CFGWATCH_SIGN_KEY_PASSPHRASE"


# --- keys ------------------------------------------------------------------------------------------------


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key in PEM (PKCS#8) or OpenSSH form; a passphrase comes from $CFGWATCH_SIGN_KEY_PASSPHRASE."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the signing key: {exc.strerror}", path=path) from exc
    passphrase = os.environ.get(SIGN_PASSPHRASE_ENV, "").encode() or None
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key: object = serialization.load_ssh_private_key(data, password=passphrase)
        else:
            key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"not a usable private key ({exc})", path=path) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("the signing key must be an Ed25519 key (openssl genpkey -algorithm ed25519)", path=path)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key: PEM, an OpenSSH `ssh-ed25519 ...` line, or the private key file itself."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the public key: {exc.strerror}", path=path) from exc
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        if data.lstrip().startswith(b"ssh-"):
            key: object = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"not a usable public key ({exc})", path=path) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("the public key must be an Ed25519 key", path=path)
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, as people compare them (first 16 hex digits)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: Path) -> Path:
    """Write a new Ed25519 private key (PEM, mode 0600) and its public key next to it (PATH.pub)."""
    if path.exists():
        raise InputError("refusing to overwrite an existing key", path=path)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    public = path.with_name(path.name + ".pub")
    public.write_bytes(public_pem(key.public_key()))
    return public


# --- manifest and signature ------------------------------------------------------------------------------


def json_bytes(document: Any) -> bytes:
    """Every JSON file of a bundle: indented, keys sorted, UTF-8, one trailing newline (byte-stable)."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def manifest_bytes(files: Mapping[str, bytes], evidence_range: Mapping[str, str]) -> bytes:
    """manifest.json: format, tool, range and the SHA-256 and size of every file, sorted by path."""
    entries = [
        {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        for path, data in sorted(files.items())
    ]
    return json_bytes(
        {"format": FORMAT, "tool": f"cfgwatch {__version__}", "range": dict(evidence_range), "files": entries}
    )


def signed(files: Mapping[str, bytes], manifest: bytes, signing_key: Ed25519PrivateKey | None) -> dict[str, bytes]:
    """`files` plus the manifest and, with a key, its signature and the signer's public key (sorted by path)."""
    complete = dict(files)
    complete[MANIFEST] = manifest
    if signing_key is not None:
        complete[SIGNATURE] = base64.b64encode(signing_key.sign(manifest)) + b"\n"
        complete[PUBLIC_KEY] = public_pem(signing_key.public_key())
    return dict(sorted(complete.items()))


# --- verification ----------------------------------------------------------------------------------------

MAX_ENTRY_BYTES = 1 << 30  # no honest bundle file comes near; a declared size above it is refused unread
_CONTROL_LIMIT = 64 << 20  # manifest.json, manifest.sig, manifest.pub are read whole, so they are capped
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What `cfgwatch export verify` found. Tampering is data (ok False), not an exception."""

    path: str
    files: int  # files listed in the manifest
    altered: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    signature: str  # valid | invalid | absent | missing (a key was given but the bundle is unsigned)
    key: str | None  # fingerprint of the key the signature was checked with
    key_source: str  # given | embedded | none
    problems: tuple[str, ...] = ()  # a malformed manifest entry, a public key that does not match

    @property
    def ok(self) -> bool:
        return not (self.altered or self.missing or self.extra or self.problems) and self.signature in (
            "valid",
            "absent",
        )


def _normalised(name: str) -> str:
    """The path two archive names collide on when extracted (separators, `.`/`..`, Unicode form, case)."""
    return unicodedata.normalize("NFC", posixpath.normpath(name.replace("\\", "/")).lstrip("/")).casefold()


class _Bundle:
    """The files of a bundle folder or zip, opened one at a time: nothing is read before its size is known.

    `problems` names what no exporter writes and a verifier must not trust: two entries that extract to
    the same path (which copy a reader sees depends on the tool), symlinks and other non-regular files.
    """

    def __init__(self, path: Path, stack: contextlib.ExitStack) -> None:
        self.path = path
        self.sizes: dict[str, int] = {}
        self.problems: list[str] = []
        self._zip: zipfile.ZipFile | None = None
        self._infos: dict[str, zipfile.ZipInfo] = {}
        if path.is_dir():
            self._scan_folder(path)
        elif path.is_file():
            try:
                self._zip = stack.enter_context(zipfile.ZipFile(path))
                infos = [info for info in self._zip.infolist() if not info.is_dir()]
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError(f"not an evidence bundle (a folder or zip): {exc}", path=path) from exc
            for info in infos:
                if info.filename in self._infos:
                    self.problems.append(f"{info.filename} appears twice in the zip")
                    continue
                self._infos[info.filename] = info
                self.sizes[info.filename] = info.file_size
        else:
            raise InputError("evidence bundle not found", path=path)
        seen: dict[str, str] = {}
        for name in self.sizes:
            other = seen.setdefault(_normalised(name), name)
            if other != name:
                self.problems.append(f"{name} and {other} name the same file")

    def _scan_folder(self, root: Path) -> None:
        for folder, dirs, names in os.walk(root):
            for name in sorted(dirs + names):
                item = Path(folder, name)
                relative = item.relative_to(root).as_posix()
                mode = item.lstat().st_mode
                if stat.S_ISLNK(mode):
                    self.problems.append(f"{relative} is a symlink (refused, not followed)")
                elif stat.S_ISREG(mode):
                    self.sizes[relative] = item.lstat().st_size
                elif not stat.S_ISDIR(mode):
                    self.problems.append(f"{relative} is not a regular file")
            dirs.sort()

    def chunks(self, name: str) -> Iterator[bytes]:
        """The entry's bytes in chunks; an unreadable or corrupt entry raises OSError."""
        try:
            opened: IO[bytes] = (
                self._zip.open(self._infos[name]) if self._zip is not None else (self.path / name).open("rb")
            )
            with opened:
                while chunk := opened.read(_CHUNK):
                    yield chunk
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
            raise OSError(str(exc)) from exc

    def digest(self, name: str, limit: int) -> str | None:
        """SHA-256 of the entry, or None when it is (or turns out) larger than `limit` or is corrupt."""
        if self.sizes[name] > limit:
            return None
        hasher, size = hashlib.sha256(), 0
        try:
            for chunk in self.chunks(name):
                size += len(chunk)
                if size > limit:
                    return None
                hasher.update(chunk)
        except OSError:
            return None
        return hasher.hexdigest()

    def read(self, name: str) -> bytes:
        """A control file (manifest, signature, key), whole; capped, as it is read before anything is trusted."""
        if self.sizes[name] > _CONTROL_LIMIT:
            raise InputError(f"{name} is larger than {_CONTROL_LIMIT} bytes", path=self.path)
        data = bytearray()
        try:
            for chunk in self.chunks(name):
                data += chunk
                if len(data) > _CONTROL_LIMIT:
                    raise InputError(f"{name} is larger than {_CONTROL_LIMIT} bytes", path=self.path)
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc}", path=self.path) from exc
        return bytes(data)


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle folder or zip, keyed by their bundle path (each capped like a control file)."""
    with contextlib.ExitStack() as stack:
        bundle = _Bundle(path, stack)
        if bundle.problems:
            raise InputError(f"not a clean evidence bundle: {'; '.join(bundle.problems)}", path=path)
        return {name: bundle.read(name) for name in sorted(bundle.sizes)}


def verify_bundle(path: Path, public_key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Recompute every hash in manifest.json, check the signature, and name altered/missing/extra files.

    With `public_key` the signature must be present and made by that key; without it an embedded
    manifest.pub is used (which proves integrity only against accidents, not against a forger). Files are
    hashed as streams capped at the size the manifest declares, so a small zip inflating to gigabytes costs
    nothing; duplicate or colliding names and symlinks make the bundle fail.
    """
    with contextlib.ExitStack() as stack:
        bundle = _Bundle(path, stack)
        return _verify(bundle, public_key)


def _verify(bundle: _Bundle, public_key: Ed25519PublicKey | None) -> VerifyResult:
    path = bundle.path
    if MANIFEST not in bundle.sizes:
        raise InputError(f"not an evidence bundle: no {MANIFEST}", path=path)
    manifest_data = bundle.read(MANIFEST)
    try:
        manifest = json.loads(manifest_data)
        entries = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(entries, list):
            raise ValueError(f"format is not {FORMAT}")
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{MANIFEST} is not a cfgwatch evidence manifest: {exc}", path=path) from exc
    problems: list[str] = list(bundle.problems)
    listed: dict[str, tuple[str, int]] = {}
    for entry in entries:
        name = entry.get("path") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("bytes") if isinstance(entry, dict) else None
        if (
            not isinstance(name, str)
            or not isinstance(digest, str)
            or not isinstance(size, int)
            or isinstance(size, bool)
            or size < 0
        ):
            problems.append(f"{MANIFEST}: malformed entry {entry!r}")
            continue
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts or name in _CONTROL_FILES:
            problems.append(f"{MANIFEST}: unsafe path {name!r}")
            continue
        if size > MAX_ENTRY_BYTES:
            problems.append(f"{MANIFEST}: {name} declares {size} bytes (limit {MAX_ENTRY_BYTES})")
            continue
        if name in listed:
            problems.append(f"{MANIFEST}: {name} listed twice")
        listed[name] = (digest, size)
    missing = tuple(sorted(name for name in listed if name not in bundle.sizes))
    altered = tuple(
        sorted(
            name
            for name, (digest, size) in listed.items()
            if name in bundle.sizes and bundle.digest(name, size) != digest
        )
    )
    extra = tuple(sorted(name for name in bundle.sizes if name not in listed and name not in _CONTROL_FILES))

    if HISTORY_FILE in bundle.sizes and HISTORY_FILE not in altered:
        problems.extend(_history_problems(bundle))

    key = public_key
    key_source = "given" if public_key is not None else "none"
    if key is None and PUBLIC_KEY in bundle.sizes:
        try:
            embedded = serialization.load_pem_public_key(bundle.read(PUBLIC_KEY))
        except (ValueError, UnsupportedAlgorithm):
            embedded = None
        if isinstance(embedded, Ed25519PublicKey):
            key, key_source = embedded, "embedded"
        else:
            problems.append(f"{PUBLIC_KEY} is not an Ed25519 public key")
    if SIGNATURE not in bundle.sizes:
        signature = "missing" if public_key is not None or PUBLIC_KEY in bundle.sizes else "absent"
    elif key is None:
        signature = "invalid"
        problems.append(f"{SIGNATURE} present but no public key to check it (pass --public-key)")
    else:
        try:
            key.verify(base64.b64decode(bundle.read(SIGNATURE).strip(), validate=True), manifest_data)
            signature = "valid"
        except (InvalidSignature, ValueError):
            signature = "invalid"
    return VerifyResult(
        path=str(path),
        files=len(listed),
        altered=altered,
        missing=missing,
        extra=extra,
        signature=signature,
        key=key_fingerprint(key) if key is not None else None,
        key_source=key_source,
        problems=tuple(problems),
    )


def _history_problems(bundle: _Bundle) -> list[str]:
    """The approval history's commit ids recomputed from the raw objects the bundle carries (see
    cfgwatch.policy.history.check_history): a forged or reordered approval breaks the chain."""
    from cfgwatch.policy.history import check_history

    try:
        document = json.loads(bundle.read(HISTORY_FILE))
        commits = document["commits"]
        if not isinstance(commits, list):
            raise TypeError("commits is not a list")
    except (InputError, ValueError, KeyError, TypeError) as exc:
        return [f"{HISTORY_FILE}: unreadable ({exc})"]
    return [f"{HISTORY_FILE}: {problem}" for problem in check_history(commits)]
