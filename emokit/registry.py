"""Build a plugin registry: a fresh pluggy manager, every plugin of the ``emokit`` entry-point group.

There is no global registry: every command builds one and passes it along, and tests build
their own with extra plugins. Built-in plugins are found through the same entry-point group
as third-party ones, so both can be listed, replaced or blocked the same way.

Each plugin is registered with a :class:`pluggy.PluginManager` on its own, then checked with
``manager.check_pending()`` (a hookimpl whose hook no spec declares, e.g. a misspelling) and
its hooks are called through the manager, one plugin at a time
(``manager.subset_hook_caller(hook, remove_plugins=<every other plugin>)``), so a plugin that
fails any step is unregistered and skipped while the others load. Pluggy's multi-line
validation errors are turned into one-line messages naming the plugin.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, fields
from typing import Any

import pluggy

from emokit import hookspecs
from emokit.hookspecs import KINDS
from emokit.errors import PluginError, UnknownNameError
from emokit.records import OPTIONS_GO_TO

ENTRY_POINT_GROUP = "emokit"
#: The distribution of emokit's built-in plugins: their record names win a clash (see build_registry).
EMOKIT_PACKAGE = "emokit"
#: Comma-separated plugin names (entry-point names) that are not loaded.
BLOCK_ENV = "EMOKIT_BLOCK_PLUGINS"


#: Record names are typed on the command line (``--arch NAME``, ``--aug NAME=key=value``), so they
#: may not contain spaces, ``=`` or ``,``.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from: its name, the distribution that provides it, and its module."""

    name: str
    package: str
    #: The importable module that holds the hooks ("" when the plugin is not a module).
    module: str = ""


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
        """The record ``name`` of ``kind``; an unknown name lists what exists, the closest match, and
        the plugins that were skipped (with why), since the name may be one of theirs."""
        try:
            return self.entries[kind][name].record
        except KeyError:
            error = UnknownNameError(kind.replace("_", " "), name, self.entries[kind])
            if self.failures:
                broken = "; ".join(f"'{plugin}' ({reason})" for plugin, reason in self.failures)
                error.args = (f"{error.args[0]} (Plugins that failed to load: {broken}.)",)
            raise error from None

    def records(self, kind: str) -> dict[str, Any]:
        """name -> record for one kind."""
        return {name: p.record for name, p in sorted(self.entries[kind].items())}

    def provider(self, kind: str, name: str) -> PluginInfo:
        """The plugin that provided ``name``."""
        self.get(kind, name)
        return self.entries[kind][name].plugin

    def selection(self, name: str | None) -> tuple[set[str], str | None]:
        """What ``name`` picks out (``emokit plugins [--check] NAME``): (plugin names, record name or None).

        ``None`` is every plugin; a plugin's name (loaded or failed) is that plugin and all its records;
        a record's name is that record and the plugins that provide one of that name. An unknown name
        lists every plugin and record name.
        """
        plugins = {info.name for info in self.plugins} | {plugin for plugin, _ in self.failures}
        if name is None or name in plugins:
            return ({name} if name else plugins), None
        providers = {found[name].plugin.name for found in self.entries.values() if name in found}
        if not providers:
            records = {record for found in self.entries.values() for record in found}
            raise UnknownNameError("plugin or record", name, plugins | records)
        return providers, name

    def selects(self, selection: tuple[set[str], str | None], kind: str, name: str) -> bool:
        """Whether the record ``name`` of ``kind`` is in a :meth:`selection`."""
        plugins, record = selection
        return self.entries[kind][name].plugin.name in plugins and record in (None, name)


def blocked_from_environment() -> tuple[str, ...]:
    """Plugin names listed in ``EMOKIT_BLOCK_PLUGINS``."""
    return tuple(n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip())


def _entry_points() -> list[tuple[importlib.metadata.EntryPoint, str]]:
    found = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        package = ep.dist.name if ep.dist is not None else "?"
        found.append((ep, package))
    return sorted(found, key=lambda item: item[0].name)


def _module_of(plugin: object) -> str:
    """The module a plugin object lives in, so checks can import it again in a fresh process."""
    if inspect.ismodule(plugin):
        return plugin.__name__
    return getattr(type(plugin), "__module__", "") or ""


def build_registry(
    extra_plugins: Iterable[tuple[str, object]] = (),
    *,
    blocked: Iterable[str] | None = None,
    use_entry_points: bool = True,
) -> Registry:
    """Load every plugin and collect its records.

    ``extra_plugins`` are (name, module-or-object) pairs added beside the entry points (tests use
    this). ``blocked`` defaults to ``EMOKIT_BLOCK_PLUGINS``. A broken plugin never stops the build:
    one that fails to import (or calls ``sys.exit``), has a misspelled hook or hook argument, an
    undecorated hook, a hook that raises or a malformed record is skipped whole, and a record whose
    name another plugin already provides is skipped alone; each is a line in ``failures`` naming the
    plugin, so only the commands that need it fail (an unknown name lists the failures).
    """
    blocked = tuple(blocked) if blocked is not None else blocked_from_environment()
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    failures: list[tuple[str, str]] = []
    loaded: dict[str, tuple[PluginInfo, dict[str, list[Any]]]] = {}

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
        if name in loaded:
            # The one found first keeps the name: which is "right" cannot be known, and a second
            # package must not silently replace what the name already meant.
            first = loaded[name][0].package
            failures.append((name, _skip_reason(f"Two plugins are both named '{name}' (from {first} and {package}); the one "
                                                f"from {package} is skipped. Rename one entry point in the 'emokit' group.", name, package)))
            continue
        try:
            plugin = load()
        except (Exception, SystemExit) as exc:  # SystemExit: a plugin's sys.exit() must not end every command
            failures.append((name, _skip_reason(_exception_line(exc), name, package)))
            continue
        info = PluginInfo(name, package, _module_of(plugin))
        try:
            _register(manager, plugin, info)
            loaded[name] = (info, _plugin_records(manager, plugin))
        except PluginError as exc:
            if manager.is_registered(plugin):
                manager.unregister(plugin)
            failures.append((name, _skip_reason(str(exc), name, package)))

    entries: dict[str, dict[str, Provided]] = {kind: {} for kind in KINDS}
    # emokit's own plugins claim their names first: installing a package must not change what
    # `--arch small_cnn` means, nor which model an existing run's name rebuilds.
    for info, records in sorted(loaded.values(), key=lambda item: item[0].package != EMOKIT_PACKAGE):
        for kind, kind_records in records.items():
            for record in kind_records:
                if record.name in entries[kind]:
                    other = entries[kind][record.name].plugin
                    failures.append((info.name, _skip_reason(
                        f"only its {kind.replace('_', ' ')} '{record.name}' (its other records are loaded): plugin "
                        f"'{other.name}' ({other.package}) provides one of that name, which is kept. "
                        f"Rename one.", info.name, info.package)))
                    continue
                entries[kind][record.name] = Provided(record, info)
    plugins = tuple(info for info, _ in loaded.values())
    return Registry({kind: dict(sorted(found.items())) for kind, found in entries.items()}, plugins, tuple(failures), blocked)


def _skip_reason(problem: str, name: str, package: str) -> str:
    """A failure's reason: the problem, the package to fix or remove, and how to stop loading the plugin."""
    return f"{problem} (package {package}; to stop loading it, set {BLOCK_ENV}={name})"


def _exception_line(exc: BaseException) -> str:
    """``ImportError: message`` on one line; ``sys.exit(3)`` said as such (its message is just "3")."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: the plugin called sys.exit({exc.code!r})"
    return _one_line(f"{type(exc).__name__}: {exc}")


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _register(manager: pluggy.PluginManager, plugin: object, info: PluginInfo) -> None:
    """Register one plugin and let pluggy validate it; raise :class:`PluginError` with one line if it is wrong.

    ``register`` rejects a hookimpl asking for arguments its hookspec does not give, and
    ``check_pending`` one whose hook no spec declares. Pluggy silently ignores a function named
    like a hook but not decorated with ``@hookimpl`` (the commonest first mistake), so that is checked first.
    """
    for hook in (kind.hook for kind in KINDS.values()):
        value = getattr(plugin, hook, None)
        if callable(value) and manager.parse_hookimpl_opts(plugin, hook) is None:
            raise PluginError(f"{hook}() is not decorated with @emokit.hookimpl, so it would be ignored. "
                              f"Add 'from emokit import hookimpl' and put @hookimpl above it.")
    try:
        manager.register(plugin, name=info.name)
        manager.check_pending()  # every other plugin passed it already: a failure is this plugin's
    except pluggy.PluginValidationError as exc:
        raise PluginError(_validation_line(manager, plugin, exc)) from None


def _validation_line(manager: pluggy.PluginManager, plugin: object, exc: pluggy.PluginValidationError) -> str:
    """Pluggy's multi-line validation error as one line that says what to change."""
    hooks = [kind.hook for kind in KINDS.values()]
    for attribute in dir(plugin):
        options = manager.parse_hookimpl_opts(plugin, attribute)
        if options is None:
            continue
        hook = options.get("specname") or attribute
        if hook not in hooks:
            close = difflib.get_close_matches(hook, hooks, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            return f"unknown hook '{hook}'.{hint} Hooks are: {', '.join(hooks)}."
        wanted = _hook_parameters(getattr(hookspecs, hook))
        extra = [name for name in _hook_parameters(getattr(plugin, attribute)) if name not in wanted]
        if extra:
            takes = f"takes {', '.join(wanted)}" if wanted else "takes no arguments"
            return f"hook {hook}() {takes}, but the plugin's {attribute}() declares {', '.join(repr(e) for e in extra)}."
    return _one_line(str(exc))


def _hook_parameters(function: Any) -> list[str]:
    """Required parameter names, as pluggy matches them against the hookspec (self/cls excluded)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name for p in parameters
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def _plugin_records(manager: pluggy.PluginManager, plugin: object) -> dict[str, list[Any]]:
    """Call each hook of one plugin through the manager and validate what it returns: kind -> records.

    Raises :class:`PluginError` at the first problem, so a plugin is taken whole or not at all.
    """
    others = [other for _, other in manager.list_name_plugin() if other is not plugin and other is not None]
    found: dict[str, list[Any]] = {}
    for kind in KINDS.values():
        caller = manager.subset_hook_caller(kind.hook, remove_plugins=others)
        implementations = len(caller.get_hookimpls())  # more than one with pluggy's specname option
        if not implementations:
            continue
        try:
            results = caller()
        except (Exception, SystemExit) as exc:
            raise PluginError(f"{kind.hook}() raised {_exception_line(exc)}") from None
        results += [None] * (implementations - len(results))  # pluggy leaves out None results: "not a list" too
        records: list[Any] = []
        for result in results:
            if not isinstance(result, (list, tuple)):
                raise PluginError(f"{kind.hook}() must return a list of {kind.record_type.__name__}, got {type(result).__name__}.")
            records += result
        for record in records:
            problems = record_problems(record, kind.name, kind.hook)
            if problems:
                raise PluginError(problems[0])
        names = [record.name for record in records]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PluginError(f"{kind.hook}() returns more than one {kind.name.replace('_', ' ')} named '{twice[0]}'.")
        found[kind.name] = list(records)
    return found


def record_problems(record: Any, kind: str, hook_name: str | None = None) -> list[str]:
    """Everything wrong with one record of ``kind``, as sentences; empty when it is well formed.

    Frozen dataclasses already refuse a missing required field when the plugin builds the
    record, so this checks what a constructor cannot, reading each rule from the record type's
    field annotations (no table per kind): text fields are strings (non-empty when required),
    ``Callable`` fields callable (or ``None`` where the annotation allows it; a path where it starts with
    ``Path``), ``Mapping`` fields
    mappings with string keys, ``tuple`` fields tuples; and every declared option is a keyword of
    the field marked :func:`emokit.records.takes_options`.
    """
    record_type = KINDS[kind].record_type
    hook_name = hook_name or KINDS[kind].hook
    if not isinstance(record, record_type):
        hint = "".join(f" (a {other.record_type.__name__} belongs in {other.hook}())"
                       for other in KINDS.values() if isinstance(record, other.record_type))
        return [f"{hook_name}() returned a {type(record).__name__}, expected {record_type.__name__}{hint}."]
    label = f"{record_type.__name__} '{getattr(record, 'name', '?')}'"
    problems: list[str] = []
    for field_name in ("name", "summary"):
        value = getattr(record, field_name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"a {record_type.__name__} has an empty or missing '{field_name}' (got {value!r}).")
    if not problems and not NAME_PATTERN.match(record.name):
        problems.append(f"{label}: the name may contain only letters, digits, '_', '-' and '.' (it is typed on the command line).")
    for f in fields(record_type):
        if f.name in ("name", "summary"):
            continue
        problem = _field_problem(f, getattr(record, f.name))
        if problem:
            problems.append(f"{label}: field '{f.name}' {problem}")
    if not problems:
        problems += _option_problems(record, record_type, label)
    return problems


def _field_problem(f: Field, value: Any) -> str | None:
    """What is wrong with one field's value, judged by the field's annotation (a string: annotations are postponed)."""
    annotation = str(f.type)
    optional = re.search(r"\|\s*None\b", annotation) is not None
    if optional and value is None:
        return None
    required = f.default is MISSING and f.default_factory is MISSING
    if annotation.startswith("Path") and isinstance(value, os.PathLike):  # a path, or a callable giving one
        return None
    if "Callable" in annotation:
        if callable(value):
            return None
        return f"must be callable or None (got {type(value).__name__})." if optional else f"is not callable (got {type(value).__name__})."
    if annotation.startswith("Mapping"):
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            return f"must be a mapping with string keys (got {type(value).__name__})."
    if annotation == "str":
        if not isinstance(value, str) or (required and not value.strip()):
            return "must be a non-empty string." if required else f"must be a string (got {type(value).__name__})."
    if annotation.startswith("tuple[str") and (not isinstance(value, tuple) or not all(isinstance(v, str) for v in value)):
        return f"must be a tuple of strings (got {value!r})."
    return None


def _option_problems(record: Any, record_type: type, label: str) -> list[str]:
    """Options the callable does not accept: a misspelled option only fails much later otherwise."""
    marked = [f for f in fields(record_type) if OPTIONS_GO_TO in f.metadata]
    if not marked:
        return []
    field_name, passed = marked[0].name, marked[0].metadata[OPTIONS_GO_TO]
    function = getattr(record, field_name)
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # builtins and some C types have no signature: nothing to check
        return []
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return []
    accepted = [name for name, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    problems = []
    for option in getattr(record, "options", {}):
        if option not in accepted:
            close = difflib.get_close_matches(option, accepted, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            problems.append(f"{label}: option '{option}' is not a keyword argument of {field_name}().{hint}")
    missing = [name for name in passed if name not in parameters]
    if missing:
        problems.append(f"{label}: {field_name}() must accept {', '.join(missing)} (emokit passes it by keyword).")
    return problems
