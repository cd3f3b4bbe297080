"""A platform in one typed object (hier_config's platform driver idea): `PlatformSpec`.

Everything cfgwatch knows about one platform sits in its spec: the parser and how early it is asked
to recognise a config, how to collect the running config (netmiko command, NAPALM driver, enable,
quick exit, the header NAPALM strips), how to tell a whole config from a cut-off one, its secret
rules, line continuations, volatile lines and change-header lines for the sanitizer, its syslog
config-change messages for attribution, and how the lab emulates it. The engines (collect, sanitize,
policy attribution, lab) read specs from `cfgwatch.vendors.registry`; none keeps a per-platform table.

Every part is required. A part that does not apply is said so with `NotApplicable(reason)` (secret
rules with `GenericOnly(reason)`), so a forgotten part is a construction error naming the part, never a
silent gap (a truncated config accepted, only generic secret rules run, attribution by run time).

The engine-side value types (`Rule`, `LineRules`, `SyslogPatterns`, `Verdict`) live with their engines;
they import nothing from the vendor packages, so reading a spec never imports the lab's SSH server or
another platform's parser.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from cfgwatch.collect.validate import Verdict
from cfgwatch.plugins import PluginError
from cfgwatch.policy.attribution import SyslogPatterns
from cfgwatch.sanitize.rules import Rule
from cfgwatch.sanitize.volatile import LineRules
from cfgwatch.vendors.base import ParserInfo


class SpecError(PluginError):
    """A platform spec that is incomplete or malformed: a bug in the platform package, named by part."""


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """An explicit "this part does not apply to this platform", with the reason (never empty)."""

    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise SpecError(f"{type(self).__name__} needs a reason")


@dataclass(frozen=True, slots=True)
class GenericOnly(NotApplicable):
    """The platform's configs hold no secret syntax of their own: only the generic secret rules run."""


@dataclass(frozen=True, slots=True)
class HeaderCommand:
    """A show command that prints the change header NAPALM's get_config drops, and the header's first words."""

    command: str
    prefix: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Collect:
    """How the collectors read the running config over SSH."""

    command: str  # netmiko: the show command for the running config
    napalm_driver: str | NotApplicable
    needs_enable: bool  # the CLI starts unprivileged: `enable` (with the inventory's secret) first
    # A read-only session is closed with this command, skipping netmiko's slow config-mode probe.
    quick_exit: str | NotApplicable
    header_command: HeaderCommand | NotApplicable  # only meaningful with a NAPALM driver


Completeness = Callable[[str], Verdict]


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretRules:
    """The platform's own secret rules (the sanitizer runs them before the generic ones).

    `order` places them in the set an unknown platform gets (every platform's rules, lowest order first:
    tight value forms first, so a later loose rule sees their marker and leaves it alone); platforms that
    share one tuple of rules (the Cisco family) share an order and the rules run once. `also_for` names
    platforms without a spec of their own whose configs use the same secret syntax (sanitizer only).
    """

    rules: tuple[Rule, ...]
    order: int
    also_for: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LineContinuation:
    """A backslash-newline style continuation the sanitizer joins before redacting (whole commands)."""

    pattern: re.Pattern[str]
    note: str  # the sanitizer's note when it joined some lines


@dataclass(frozen=True, slots=True, kw_only=True)
class LabProfile:
    """How the built-in lab emulates the platform.

    `emulator` is the `module:Class` of its `cfgwatch.lab.platforms.Platform` subclass, imported only
    by the lab engine (the lab's SSH server must not load whenever a spec is read).
    """

    emulator: str
    role: str  # the role the generated lab inventory gives these devices
    collector: str  # the collector the generated lab inventory uses (netmiko | napalm)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PlatformSpec:
    """Everything about one platform; see the module docstring. Compared and hashed by identity."""

    name: str  # netutils / netmiko canonical name
    parser: ParserInfo
    detection_priority: int  # lower asks first: the most distinctive syntaxes first, generic Cisco IOS last
    aliases: tuple[str, ...]  # names users type that netutils' lib_mapper tables do not know
    collect: Collect
    completeness: Completeness | NotApplicable
    secrets: SecretRules | GenericOnly
    continuation: LineContinuation | NotApplicable
    volatile: LineRules | NotApplicable  # lines that change between two reads of an unchanged device
    change_header: LineRules | NotApplicable  # header lines that say who changed the config and when
    syslog: SyslogPatterns | NotApplicable
    lab: LabProfile | NotApplicable

    def __post_init__(self) -> None:
        problems = spec_problems(self)
        if problems:
            raise SpecError("; ".join(problems))


def spec_problems(spec: PlatformSpec) -> list[str]:
    """What is missing or malformed in a spec, each problem naming its part ([] for a complete spec)."""
    problems: list[str] = []
    for part in dataclasses.fields(spec):
        value = getattr(spec, part.name, None)
        allowed = PART_TYPES[part.name]
        if value is None or not isinstance(value, allowed):
            names = " or ".join(kind.__name__ for kind in allowed)
            problems.append(f"platform {spec.name!r}: part {part.name!r} is missing or not a {names} ({value!r})")
    if problems:
        return problems
    if spec.parser.platform != spec.name:
        problems.append(f"platform {spec.name!r}: part 'parser' is for {spec.parser.platform!r}")
    if isinstance(spec.volatile, LineRules) and any(rule.meta is not None for rule in spec.volatile.rules):
        problems.append(f"platform {spec.name!r}: part 'volatile' holds header rules (they go in change_header)")
    if isinstance(spec.change_header, LineRules) and any(rule.meta is None for rule in spec.change_header.rules):
        problems.append(f"platform {spec.name!r}: part 'change_header' holds a rule that reads no metadata")
    if isinstance(spec.collect.header_command, HeaderCommand) and isinstance(spec.collect.napalm_driver, NotApplicable):
        problems.append(f"platform {spec.name!r}: part 'collect' has a header command but no NAPALM driver")
    return problems


# part -> the types it may hold.
PART_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "parser": (ParserInfo,),
    "detection_priority": (int,),
    "aliases": (tuple,),
    "collect": (Collect,),
    "completeness": (cast("type", Callable), NotApplicable),  # a Completeness (isinstance checks callable)
    "secrets": (SecretRules, GenericOnly),
    "continuation": (LineContinuation, NotApplicable),
    "volatile": (LineRules, NotApplicable),
    "change_header": (LineRules, NotApplicable),
    "syslog": (SyslogPatterns, NotApplicable),
    "lab": (LabProfile, NotApplicable),
}
