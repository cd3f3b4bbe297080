"""The bundle's integrity layer: manifest.json (SHA-256 and size of every file), the optional Ed25519
signature over it, the signing keys, and `verify_bundle`, which recomputes it all on a bundle folder or zip."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cfgwatch import __version__
from cfgwatch.errors import InputError

FORMAT = "cfgwatch-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
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


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle folder or zip, keyed by their bundle path."""
    if path.is_dir():
        files: dict[str, bytes] = {}
        for item in sorted(path.rglob("*")):
            if item.is_file():
                files[item.relative_to(path).as_posix()] = item.read_bytes()
        return files
    if path.is_file():
        try:
            with zipfile.ZipFile(path) as archive:
                return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"not an evidence bundle (a folder or zip): {exc}", path=path) from exc
    raise InputError("evidence bundle not found", path=path)


def verify_bundle(path: Path, public_key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Recompute every hash in manifest.json, check the signature, and name altered/missing/extra files.

    With `public_key` the signature must be present and made by that key; without it an embedded
    manifest.pub is used (which proves integrity only against accidents, not against a forger).
    """
    files = read_bundle(path)
    if MANIFEST not in files:
        raise InputError(f"not an evidence bundle: no {MANIFEST}", path=path)
    try:
        manifest = json.loads(files[MANIFEST])
        entries = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(entries, list):
            raise ValueError(f"format is not {FORMAT}")
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{MANIFEST} is not a cfgwatch evidence manifest: {exc}", path=path) from exc
    problems: list[str] = []
    listed: dict[str, str] = {}
    for entry in entries:
        name = entry.get("path") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(digest, str):
            problems.append(f"{MANIFEST}: malformed entry {entry!r}")
            continue
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts or name in _CONTROL_FILES:
            problems.append(f"{MANIFEST}: unsafe path {name!r}")
            continue
        if name in listed:
            problems.append(f"{MANIFEST}: {name} listed twice")
        listed[name] = digest
    missing = tuple(sorted(name for name in listed if name not in files))
    altered = tuple(
        sorted(
            name
            for name, digest in listed.items()
            if name in files and hashlib.sha256(files[name]).hexdigest() != digest
        )
    )
    extra = tuple(sorted(name for name in files if name not in listed and name not in _CONTROL_FILES))

    key = public_key
    key_source = "given" if public_key is not None else "none"
    if key is None and PUBLIC_KEY in files:
        try:
            embedded = serialization.load_pem_public_key(files[PUBLIC_KEY])
        except (ValueError, UnsupportedAlgorithm):
            embedded = None
        if isinstance(embedded, Ed25519PublicKey):
            key, key_source = embedded, "embedded"
        else:
            problems.append(f"{PUBLIC_KEY} is not an Ed25519 public key")
    if SIGNATURE not in files:
        signature = "missing" if public_key is not None or PUBLIC_KEY in files else "absent"
    elif key is None:
        signature = "invalid"
        problems.append(f"{SIGNATURE} present but no public key to check it (pass --public-key)")
    else:
        try:
            key.verify(base64.b64decode(files[SIGNATURE].strip(), validate=True), files[MANIFEST])
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
