"""Build a plugin registry: a fresh pluggy manager, every plugin of the ``emokit`` entry-point group.

There is no global registry: every command builds one and passes it along, and tests build
their own with extra plugins. Built-in plugins are found through the same entry-point group
as third-party ones, so both can be listed, replaced or blocked the same way.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import pluggy

from emokit import hookspecs
from emokit.errors import PluginError, UnknownNameError
from emokit.records import RECORD_TYPES

ENTRY_POINT_GROUP = "emokit"
#: Comma-separated plugin names (entry-point names) that are not loaded.
BLOCK_ENV = "EMOKIT_BLOCK_PLUGINS"

#: Hook name for each record kind.
HOOK_FOR_KIND: dict[str, str] = {
    "architecture": "emokit_architectures",
    "augmentation": "emokit_augmentations",
    "backend": "emokit_backends",
    "dataset": "emokit_datasets",
    "face_detector": "emokit_face_detectors",
}


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from: its name and the distribution that provides it."""

    name: str
    package: str


@dataclass(frozen=True)
class Provided:
    """A record together with the plugin that provided it."""

    record: Any
    plugin: PluginInfo


@dataclass(frozen=True)
class Registry:
    """Every record of every loaded plugin, by kind and name, plus the plugins that failed to load."""

    entries: dict[str, dict[str, Provided]]
    plugins: tuple[PluginInfo, ...]
    #: (plugin name, one-line reason) for each plugin that could not be loaded.
    failures: tuple[tuple[str, str], ...]
    blocked: tuple[str, ...]

    def names(self, kind: str) -> list[str]:
        """The registered names of one kind, sorted."""
        return sorted(self.entries[kind])

    def get(self, kind: str, name: str) -> Any:
        """The record ``name`` of ``kind``; an unknown name lists what exists and the closest match."""
        try:
            return self.entries[kind][name].record
        except KeyError:
            raise UnknownNameError(kind.replace("_", " "), name, self.entries[kind]) from None

    def records(self, kind: str) -> dict[str, Any]:
        """name -> record for one kind."""
        return {name: p.record for name, p in sorted(self.entries[kind].items())}

    def provider(self, kind: str, name: str) -> PluginInfo:
        """The plugin that provided ``name``."""
        self.get(kind, name)
        return self.entries[kind][name].plugin


def blocked_from_environment() -> tuple[str, ...]:
    """Plugin names listed in ``EMOKIT_BLOCK_PLUGINS``."""
    return tuple(n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip())


def _entry_points() -> list[tuple[importlib.metadata.EntryPoint, str]]:
    found = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        package = ep.dist.name if ep.dist is not None else "?"
        found.append((ep, package))
    return sorted(found, key=lambda item: item[0].name)


def build_registry(
    extra_plugins: Iterable[tuple[str, object]] = (),
    *,
    blocked: Iterable[str] | None = None,
    use_entry_points: bool = True,
) -> Registry:
    """Load every plugin and collect its records.

    ``extra_plugins`` are (name, module-or-object) pairs added beside the entry points (tests use
    this). ``blocked`` defaults to ``EMOKIT_BLOCK_PLUGINS``. A plugin that fails to import is
    recorded in ``failures`` and skipped; a misspelled hook, a malformed record or a duplicate
    name raises :class:`PluginError` naming the plugin(s).
    """
    blocked = tuple(blocked) if blocked is not None else blocked_from_environment()
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    failures: list[tuple[str, str]] = []
    infos: dict[str, PluginInfo] = {}

    candidates: list[tuple[str, str, Any]] = []  # (name, package, loader)
    if use_entry_points:
        for ep, package in _entry_points():
            candidates.append((ep.name, package, ep.load))
    for name, obj in extra_plugins:
        candidates.append((name, "(local)", lambda obj=obj: obj))

    for name, package, load in candidates:
        if name in blocked:
            manager.set_blocked(name)
            continue
        try:
            plugin = load()
        except Exception as exc:  # a broken plugin must not take the CLI down
            failures.append((name, f"{type(exc).__name__}: {exc}"))
            continue
        if name in infos:
            raise PluginError(f"Two plugins are both named '{name}' (from {infos[name].package} and {package}).")
        try:
            manager.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"Plugin '{name}' ({package}): {exc}") from None
        infos[name] = PluginInfo(name, package)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"{exc} (hooks are: {', '.join(HOOK_FOR_KIND.values())})") from None

    entries: dict[str, dict[str, Provided]] = {}
    for kind, hook_name in HOOK_FOR_KIND.items():
        entries[kind] = _collect(manager, kind, hook_name, infos)
    return Registry(entries, tuple(infos.values()), tuple(failures), blocked)


def _collect(manager: pluggy.PluginManager, kind: str, hook_name: str, infos: dict[str, PluginInfo]) -> dict[str, Provided]:
    """Call one hook on each plugin separately, so every record is traced to its plugin."""
    record_type = RECORD_TYPES[kind]
    found: dict[str, Provided] = {}
    for impl in getattr(manager.hook, hook_name).get_hookimpls():
        info = infos[impl.plugin_name]
        try:
            records = impl.function()
        except Exception as exc:
            raise PluginError(f"Plugin '{info.name}': {hook_name}() raised {type(exc).__name__}: {exc}") from None
        if not isinstance(records, (list, tuple)):
            raise PluginError(f"Plugin '{info.name}': {hook_name}() must return a list of {record_type.__name__}, got {type(records).__name__}.")
        for record in records:
            _validate(record, record_type, info, hook_name)
            if record.name in found:
                other = found[record.name].plugin
                raise PluginError(
                    f"Duplicate {kind.replace('_', ' ')} '{record.name}': provided by plugin '{other.name}' ({other.package}) "
                    f"and plugin '{info.name}' ({info.package})."
                )
            found[record.name] = Provided(record, info)
    return found


def _validate(record: Any, record_type: type, info: PluginInfo, hook_name: str) -> None:
    if not isinstance(record, record_type):
        raise PluginError(
            f"Plugin '{info.name}': {hook_name}() returned a {type(record).__name__}, expected {record_type.__name__}."
        )
    for f in fields(record_type):
        value = getattr(record, f.name)
        if f.name in ("name", "summary") and (not isinstance(value, str) or not value.strip()):
            raise PluginError(f"Plugin '{info.name}': a {record_type.__name__} has an empty or missing '{f.name}'.")
        if f.name in ("build", "load", "create") and not callable(value):
            raise PluginError(f"Plugin '{info.name}': {record_type.__name__} '{record.name}' field '{f.name}' is not callable.")
