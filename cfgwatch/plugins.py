"""One registry pattern for every extension point (nornir's PluginRegister, aerleon's plugin supervisor).

Each extension point is a `Registry[T]` bound to an `importlib.metadata` entry-point group. cfgwatch
declares its own built-ins in its pyproject.toml under the same groups, so a site package adds or
overrides a platform, flow backend, flow format, report format or notifier by declaring an entry point
of the same name: a plugin from any other distribution wins over cfgwatch's own entry. Entry points are
only listed on first use and each one is imported only when its name is asked for, so the CLI does not
import every backend to print `--help`.

>>> registry: Registry[int] = Registry("cfgwatch.example", "example")
>>> registry.register("one", 1)
>>> registry.get("one")
1
>>> registry.names()
('one',)
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, EntryPoints, entry_points
from typing import Generic, Protocol, TypeVar

from cfgwatch.errors import CfgwatchError

T = TypeVar("T")

OWN_DISTRIBUTION = "cfgwatch"

# The entry-point groups cfgwatch reads; the built-ins are declared under these names in pyproject.toml.
PLATFORMS_GROUP = "cfgwatch.platforms"
FLOW_BACKENDS_GROUP = "cfgwatch.flow_backends"
FLOW_FORMATS_GROUP = "cfgwatch.flow_formats"
REPORT_FORMATS_GROUP = "cfgwatch.report_formats"
NOTIFIERS_GROUP = "cfgwatch.notifiers"


class PluginError(CfgwatchError):
    """A name no plugin answers to, or a plugin that cannot be loaded or is not of the expected type."""


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a registered name comes from: an object registered in code, or a not-yet-loaded entry point."""

    entry_point: EntryPoint | None
    distribution: str  # "" for objects registered in code


class _Selectable(Protocol):
    def select(self, *, group: str) -> EntryPoints: ...


# One listing of every installed entry point, shared by all registries: each `entry_points(group=...)` call
# reads every distribution's metadata again (~10 ms here), and the CLI consults several registries at start.
# (Python 3.11 answers `entry_points()` with SelectableGroups, 3.12 with EntryPoints: both `select(group=)`.)
_listing_lock = threading.Lock()
_listing: list[_Selectable] = []


def _entry_points_of(group: str) -> EntryPoints:
    with _listing_lock:
        if not _listing:
            _listing.append(entry_points())
        return _listing[0].select(group=group)


def _forget_listing() -> None:
    with _listing_lock:
        _listing.clear()


def _distribution_of(entry_point: EntryPoint) -> str:
    """The name of the distribution that declares `entry_point` ('' when unknown)."""
    dist = entry_point.dist
    if dist is None:
        return ""
    return str(dist.name or "")


class Registry(Generic[T]):
    """Named plugins of one kind, fed by an entry-point group and by `register()` calls.

    `validate` checks (and may convert) a loaded object; it raises `PluginError` when the object is not a
    plugin of this kind. Order of `names()` is discovery order, then `register()` order. Discovery order
    is NOT the order pyproject.toml lists the entry points in: setuptools writes each group's names
    sorted (entry_points.txt), so an order that matters (detection priority, send order) must be a field
    of the plugin object, never its position.
    """

    def __init__(self, group: str, kind: str, *, validate: Callable[[str, object], T] | None = None) -> None:
        self.group = group
        self.kind = kind
        self._validate = validate
        self._loaded: dict[str, T] = {}
        self._sources: dict[str, _Source] = {}
        self._discovered = False
        self._lock = threading.Lock()

    # -- registration -------------------------------------------------------------------------------
    def register(self, name: str, plugin: T, *, replace: bool = False) -> None:
        """Register `plugin` under `name` in code (tests, embedding applications)."""
        self._discover()
        if name in self._sources and not replace:
            raise PluginError(f"{self.kind} {name!r} is already registered (pass replace=True to override)")
        checked = self._checked(name, plugin)  # a refused object must not leave its name behind
        self._sources[name] = _Source(None, "")
        self._loaded[name] = checked

    def deregister(self, name: str) -> None:
        self._discover()
        self._sources.pop(name, None)
        self._loaded.pop(name, None)

    def reset(self) -> None:
        """Forget everything and read the entry points again on next use (tests that install plugins)."""
        _forget_listing()
        self._loaded.clear()
        self._sources.clear()
        self._discovered = False

    # -- look-up --------------------------------------------------------------------------------------
    def get(self, name: str) -> T:
        """The plugin called `name`; PluginError names the known ones and the closest match."""
        self._discover()
        if name in self._loaded:
            return self._loaded[name]
        source = self._sources.get(name)
        if source is None or source.entry_point is None:
            raise PluginError(self.unknown_message(name), key=self.group)
        try:
            obj = source.entry_point.load()
        except Exception as exc:  # an entry point's import failing is that plugin's fault, said by name
            where = source.distribution or "an unknown package"
            raise PluginError(
                f"{self.kind} {name!r} from {where} cannot be loaded: {type(exc).__name__}: {exc}", key=self.group
            ) from exc
        plugin = self._checked(name, obj)
        self._loaded[name] = plugin
        return plugin

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._sources

    def names(self) -> tuple[str, ...]:
        self._discover()
        return tuple(self._sources)

    def items(self) -> Iterator[tuple[str, T]]:
        """Every plugin, loaded, in registration order."""
        for name in self.names():
            yield name, self.get(name)

    def origin(self, name: str) -> str:
        """The distribution that provides `name` ('cfgwatch' for built-ins, '' when registered in code)."""
        self._discover()
        source = self._sources.get(name)
        if source is None:
            raise PluginError(self.unknown_message(name), key=self.group)
        return source.distribution

    def closest(self, name: str) -> str | None:
        matches = difflib.get_close_matches(name, self.names(), n=1)
        return matches[0] if matches else None

    def unknown_message(self, name: str) -> str:
        """What to say about a name nothing answers to: the known names and the closest one (settings
        validators and CLI options raise it with their own key)."""
        known = ", ".join(self.names()) or "none"
        hint = self.closest(name)
        did_you_mean = f"; did you mean {hint!r}?" if hint else ""
        return f"unknown {self.kind} {name!r} (known: {known}){did_you_mean}"

    # -- internals ------------------------------------------------------------------------------------

    def _checked(self, name: str, obj: object) -> T:
        if self._validate is None:
            return obj  # type: ignore[return-value]
        return self._validate(name, obj)

    def _discover(self) -> None:
        """List the group's entry points once; a non-cfgwatch distribution overrides a built-in name.

        Under a lock, and marked done only once every entry point is listed: the first use may come from
        several threads at once (the collector's worker threads each ask for their platform).
        """
        if self._discovered:
            return
        with self._lock:
            if self._discovered:
                return
            own: list[EntryPoint] = []
            others: list[EntryPoint] = []
            for entry_point in _entry_points_of(self.group):
                if _distribution_of(entry_point) == OWN_DISTRIBUTION:
                    own.append(entry_point)
                else:
                    others.append(entry_point)
            for entry_point in own + others:  # later wins: a site's plugin replaces a built-in of the same name
                self._sources[entry_point.name] = _Source(entry_point, _distribution_of(entry_point))
            self._discovered = True


def instance_of(cls: type[T]) -> Callable[[str, object], T]:
    """A `validate` for registries whose plugins are instances of one class (a spec dataclass)."""

    def check(name: str, obj: object) -> T:
        if not isinstance(obj, cls):
            raise PluginError(f"plugin {name!r} is a {type(obj).__name__}, not a {cls.__name__}")
        return obj

    return check
