"""`nightly:` and `notify:` settings of cfgwatch.yaml (light: cfgwatch.config imports this module).

Secrets never live in cfgwatch.yaml: an SMTP password or a webhook URL that embeds a token (Slack, Teams)
is read from an environment variable or a file named here, at send time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    SerializerFunctionWrapHandler,
    create_model,
    field_validator,
    model_serializer,
    model_validator,
)

from cfgwatch.section import Section

SEVERITIES = ("info", "low", "medium", "high", "critical")  # same order as cfgwatch.policy.settings


def _severity(value: str | None) -> str | None:
    if value is not None and value not in SEVERITIES:
        raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
    return value


class NightlySettings(Section):
    """`nightly:` in cfgwatch.yaml: what the unattended job does besides pull and audit."""

    coverage_gap_nights: int = Field(default=3, ge=1, le=365)  # failed this many nights in a row -> finding
    coverage_gap_severity: str = "high"  # severity of a coverage-gap finding (a blind spot fails the job)
    export_dir: Path | None = None  # evidence bundles go to <export_dir>/cfgwatch-evidence-<time>.zip; none: no export
    sign_key: Path | None = None  # Ed25519 key signing each bundle's manifest (passphrase from the export's env var)
    flows: bool = True  # check findings against the flow store when one is configured and filled
    summary_file: Path | None = None  # JSON summary for monitoring (default <state_dir>/nightly-summary.json)
    prometheus_file: Path | None = None  # node_exporter textfile (default <state_dir>/cfgwatch_nightly.prom)

    @field_validator("coverage_gap_severity")
    @classmethod
    def _valid_severity(cls, value: str) -> str:
        return _severity(value) or value


class Secret(Section):
    """Where a secret comes from: an environment variable or a file (first line), never the YAML itself."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self

    def read(self, base_dir: Path) -> str:
        """The secret value; raises LookupError naming the variable/file (never the value) when missing."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise LookupError(f"environment variable {self.env} is not set")
            return value
        assert self.file is not None
        path = self.file if self.file.is_absolute() else base_dir / self.file
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise LookupError(f"cannot read secret file {path}: {exc.strerror}") from exc
        value = text.splitlines()[0].strip() if text.strip() else ""
        if not value:
            raise LookupError(f"secret file {path} is empty")
        return value


class Target(Section):
    """Common to every notification target."""

    name: str | None = None  # how reports and logs name this target (defaults to a secret-free description)
    min_severity: str | None = None  # overrides notify.min_severity for this target
    timeout: float = Field(default=10.0, gt=0, le=300)  # seconds for connect + send

    @field_validator("min_severity")
    @classmethod
    def _valid_severity(cls, value: str | None) -> str | None:
        return _severity(value)


class WebhookTarget(Target):
    """A JSON POST. `url` for plain endpoints; `url_secret` when the URL itself carries a token (Slack, Teams)."""

    url: str | None = None
    url_secret: Secret | None = None
    style: Literal["json", "slack", "teams"] = "json"
    headers: dict[str, str] = {}  # extra non-secret headers
    token: Secret | None = None  # sent as `Authorization: Bearer <token>` when given

    @model_validator(mode="after")
    def _one_url(self) -> WebhookTarget:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of url or url_secret")
        if self.url is not None and not self.url.lower().startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return self


class EmailTarget(Target):
    """SMTP submission with STARTTLS (required unless starttls is false, and then no password is ever sent)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ca_file: Path | None = None  # trust this CA (PEM) instead of the system store, e.g. an internal relay
    username: str | None = None
    password: Secret | None = None
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    subject_prefix: str = "[cfgwatch]"

    @model_validator(mode="after")
    def _auth(self) -> EmailTarget:
        if self.username is not None and self.password is None:
            raise ValueError("username needs password (env: VAR or file: PATH)")
        if self.password is not None and not self.starttls:
            raise ValueError("a password is only sent over STARTTLS: set starttls: true")
        return self


class SyslogTarget(Target):
    """RFC 5424 messages over UDP (RFC 5426) or TCP with octet counting (RFC 6587)."""

    host: str
    port: int = Field(default=514, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"
    facility: int = Field(default=16, ge=0, le=23)  # 16 = local0
    app_name: str = "cfgwatch"
    hostname: str | None = None  # default: this machine's name
    sd_id: str = "cfgwatch@32473"  # structured-data id; 32473 is the documentation PEN (RFC 5612)
    max_udp_bytes: int = Field(default=2048, ge=480, le=65000)


class NotifySettings(Section):
    """`notify:` in cfgwatch.yaml: who hears about the nightly's findings, and from what severity on.

    Every other key names a registered notifier (`webhooks`, `email`, `syslog` or a plugin's) and lists its
    targets, validated by that notifier's settings model; an unknown key is an error naming the known ones.
    """

    min_severity: str = "high"  # only findings at or above this are sent
    on_error: bool = True  # also notify when a nightly stage failed (pull, audit, export)
    # notifier name -> its targets, in the notifiers' `order` (the order they are sent in); built from the keys
    targets: dict[str, tuple[SerializeAsAny[Target], ...]] = Field(default_factory=dict)

    @field_validator("min_severity")
    @classmethod
    def _valid_severity(cls, value: str | None) -> str | None:
        return _severity(value)

    @model_validator(mode="before")
    @classmethod
    def _targets_per_notifier(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        from cfgwatch.notify import NOTIFIERS  # here: that package imports this module

        own_keys = set(cls.model_fields) - {"targets"}  # `targets` is built here, never written
        own = {key: value for key, value in data.items() if key in own_keys}
        lists = {key: value for key, value in data.items() if key not in own_keys}
        if lists:
            kinds = tuple((key, NOTIFIERS.get(key).settings if key in NOTIFIERS else None) for key in lists)
            validated = _targets_model(kinds).model_validate(lists)
            by_key = {key: tuple(getattr(validated, f"n{index}")) for index, key in enumerate(lists)}
            send_order = sorted(by_key, key=lambda key: (NOTIFIERS.get(key).order, key))
            own["targets"] = {key: by_key[key] for key in send_order if by_key[key]}
        return own

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dump in cfgwatch.yaml's shape, one list per notifier (an evidence bundle records the defaults)."""
        from cfgwatch.notify import NOTIFIERS

        data: dict[str, Any] = handler(self)
        targets = data.pop("targets", {})
        for name in NOTIFIERS.names():
            data[name] = list(targets.get(name, ()))
        return data


def _unknown_notifier(key: str, value: object) -> object:
    from cfgwatch.notify import NOTIFIERS

    raise ValueError(NOTIFIERS.unknown_message(key))


@lru_cache(maxsize=64)
def _targets_model(kinds: tuple[tuple[str, type[Target] | None], ...]) -> type[BaseModel]:
    """A model with one list field per notifier key present (aliased to the key, so errors name
    `notify.<key>.<index>.<field>`); a key no notifier answers to fails with the registry's message."""
    fields: dict[str, Any] = {}
    for index, (key, settings) in enumerate(kinds):
        if settings is None:
            kind: Any = Annotated[Any, BeforeValidator(lambda value, key=key: _unknown_notifier(key, value))]
        else:
            kind = list[settings]  # type: ignore[valid-type]
        fields[f"n{index}"] = (kind, Field(alias=key))
    return create_model("NotifyTargets", __base__=Section, **fields)
