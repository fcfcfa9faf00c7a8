"""Plugin options: what a record declares each option allows, and the one place values are checked.

A record's ``options`` maps each option name to its default. A plugin may declare more with
:class:`Option` (a range, choices, help); :func:`declare_options` turns either form into an
:class:`OptionDefaults`, still a plain ``name -> default`` dict (so ``build(**record.options)``
and JSON keep working) that also carries each option's rule. :func:`parse_options` (``key=value``
text from the command line) and :func:`check_options` (values already typed, from Python) both
check every value against those rules, before any data is read or Keras imported.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from emokit.errors import EmokitError

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


class _NoDefault:
    """The marker for an :class:`Option` whose default is read from the function's signature."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Option:
    """One plugin option: its default and the values it allows.

    The type is the default's (bool, int, float, str, ...): an int option refuses 2.5, and a float
    option refuses nan and inf, as every option does. Bounds: ``above``/``below`` exclude the bound,
    ``at_least``/``at_most`` include it. ``choices`` lists the only values allowed. ``default`` may be
    left out where the default comes from the function's signature (:func:`emokit.records.record_for`,
    :func:`emokit.records.default_options`).
    """

    default: Any = NO_DEFAULT
    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None
    choices: tuple[Any, ...] | None = None
    #: One line for users: what the option does.
    help: str = ""

    def bounds(self) -> str:
        """The declared range as ``> 0 and <= 16``; empty when none is declared."""
        parts = [f"{sign} {_number(bound)}" for sign, bound in
                 ((">", self.above), (">=", self.at_least), ("<", self.below), ("<=", self.at_most)) if bound is not None]
        return " and ".join(parts)

    def allowed(self) -> str:
        """What a value must be, for messages: ``a finite number >= 0 and < 1``, ``one of max, avg``."""
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        kind = _kind_words(self.default)
        bounds = self.bounds()
        return f"{kind} {bounds}" if bounds else kind

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed (``is not a finite number``), or ``None`` when it is."""
        default = self.default
        if isinstance(default, bool):
            wrong_type = not isinstance(value, bool)
        elif isinstance(default, numbers.Integral):
            wrong_type = isinstance(value, bool) or not isinstance(value, numbers.Integral)
        elif isinstance(default, numbers.Real):
            wrong_type = isinstance(value, bool) or not isinstance(value, numbers.Real)
        elif isinstance(default, str):
            wrong_type = not isinstance(value, str)
        else:
            wrong_type = False  # sequences and None take any JSON value; only non-finite numbers are refused
        if wrong_type:
            return f"is not {_kind_words(default)}"
        if not _all_finite(value):
            return "is not a finite number"
        if self.choices is not None and value not in self.choices:
            return "is not allowed"
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            limits = ((self.above, lambda b: value > b), (self.at_least, lambda b: value >= b),
                      (self.below, lambda b: value < b), (self.at_most, lambda b: value <= b))
            if not all(test(bound) for bound, test in limits if bound is not None):
                return "is not allowed"
        return None


class OptionDefaults(dict):
    """A record's options: a plain ``name -> default`` dict that also holds each option's :class:`Option`.

    Being a dict, it is passed to ``build(**options)`` and written as JSON like any other mapping.
    """

    def __init__(self, rules: Mapping[str, Option]) -> None:
        super().__init__((name, rule.default) for name, rule in rules.items())
        #: Each option's declaration; options given as plain defaults get a type-only :class:`Option`.
        self.rules: dict[str, Option] = dict(rules)


def declare_options(options: Mapping[str, Any], where: str = "") -> OptionDefaults:
    """Options given as defaults or :class:`Option` values, as :class:`OptionDefaults`.

    A plain default declares its type only and is taken as it is, so plugins written before
    :class:`Option` keep working. Raises ``ValueError`` naming the option when an Option has no
    default or refuses its own default (a mistake in the plugin, found when it is loaded).
    """
    if isinstance(options, OptionDefaults):
        return options
    rules: dict[str, Option] = {}
    for name, value in options.items():
        if not isinstance(value, Option):
            rules[name] = Option(value)
            continue
        label = f"{where}option '{name}'"
        if value.default is NO_DEFAULT:
            raise ValueError(f"{label} declares no default: give Option(default, ...) or declare it with record_for().")
        if value.problem(value.default):
            raise ValueError(f"{label}: its default {value.default!r} is not allowed by its declaration "
                             f"({value.allowed()}).")
        rules[name] = value
    return OptionDefaults(rules)


def declared_options(function: Callable[..., Any], defaults: Mapping[str, Any], declared: Mapping[str, Option]) -> OptionDefaults:
    """``defaults`` (read from ``function``'s signature) with the ranges and choices ``declared`` adds."""
    function_name = getattr(function, "__name__", repr(function))
    unknown = [name for name in declared if name not in defaults]
    if unknown:
        raise ValueError(f"{function_name}: option '{unknown[0]}' is not a keyword argument of {function_name}() "
                         f"with a default.")
    rules = {name: replace(declared[name], default=default) if name in declared else default
             for name, default in defaults.items()}
    return declare_options(rules, f"{function_name}: ")


def rules_of(defaults: Mapping[str, Any]) -> dict[str, Option]:
    """Each option's :class:`Option`: the declared ones, or the types of plain defaults."""
    return declare_options(defaults).rules


def coerce(value: str, default: Any, where: str) -> Any:
    """Convert ``value`` to the type of ``default``; ``where`` names the option in the error."""
    try:
        if isinstance(default, bool):
            low = value.lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, (tuple, list)):
            parsed = json.loads(value if value.startswith("[") else f"[{value}]")
            return type(default)(parsed)
        if default is None:
            return json.loads(value) if value[:1] in "-0123456789[{tfn" else value
        return value
    except (ValueError, json.JSONDecodeError):
        kind = type(default).__name__
        raise EmokitError(f"{where}: '{value}' is not a valid {kind}.") from None


def check_options(values: Mapping[str, Any], defaults: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Check typed option ``values`` (from Python, or parsed) against the record's ``defaults``.

    Returns ``values`` as a dict. An unknown name lists the options that exist; a value that its
    option does not allow names the option, the value and what is allowed, in one line.
    """
    rules = rules_of(defaults)
    for key, value in values.items():
        rule = _rule(rules, key, owner)
        why = rule.problem(value)
        if why:
            raise EmokitError(f"{owner} option '{key}': {value!r} {why}. Allowed: {rule.allowed()}.")
    return dict(values)


def _split_pairs(text: str) -> list[str]:
    """Split ``a=1,b=[2,3]`` on the commas that are not inside brackets (a trailing comma is ignored)."""
    items = [p.strip() for p in re.split(r",(?![^\[]*\])", text)]
    return items[:-1] if items and not items[-1] else items


def parse_options(pairs: Iterable[str], defaults: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Parse ``key=value`` items (each may hold several, comma-separated) against ``defaults``.

    Each value is converted to its option's type and checked against what the option allows (see
    :class:`Option`); every error is one line naming ``owner``'s option, the value and what is allowed.
    """
    rules = rules_of(defaults)
    out: dict[str, Any] = {}
    for item in (p for text in pairs for p in _split_pairs(text)):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise EmokitError(f"{owner}: expected key=value, got '{item}'.")
        rule = _rule(rules, key, owner)
        where = f"{owner} option '{key}'"
        if not value:
            raise EmokitError(f"{where} has no value (got '{item}'). Allowed: {rule.allowed()}.")
        try:
            parsed = coerce(value, rule.default, where)
        except EmokitError as exc:
            raise EmokitError(f"{exc} Allowed: {rule.allowed()}.") from None
        why = rule.problem(parsed)
        if why:
            raise EmokitError(f"{where}: '{value}' {why}. Allowed: {rule.allowed()}.")
        out[key] = parsed
    return out


def parse_named(text: str, what: str = "augmentation") -> tuple[str, list[str]]:
    """Split ``NAME``, ``NAME=key=value,...`` or ``NAME:key=value,...`` into the name and its option text.

    The name ends at the first ``=`` or ``:``. An empty name, or a separator with nothing after it,
    is refused in one line (``what`` names the kind of thing in it).
    """
    name, sep, rest = re.match(r"([^:=]*)([:=]?)(.*)", text, re.DOTALL).groups()
    name = name.strip()
    usage = "use NAME, NAME=key=value,... or NAME:key=value,..."
    if not name:
        raise EmokitError(f"{what.capitalize()} '{text}' has no name; {usage}.")
    if sep and not rest.strip():
        raise EmokitError(f"{what.capitalize()} '{text}': nothing follows '{sep}' after the name; {usage}.")
    return name, [rest.strip()] if rest.strip() else []


def _rule(rules: Mapping[str, Option], key: str, owner: str) -> Option:
    if key not in rules:
        known = ", ".join(sorted(rules)) or "(none)"
        raise EmokitError(f"{owner} has no option '{key}'. Options: {known}.")
    return rules[key]


def _kind_words(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, numbers.Integral):
        return "an integer"
    if isinstance(default, numbers.Real):
        return "a finite number"
    if isinstance(default, str):
        return "text"
    if isinstance(default, (tuple, list)):
        return "a list"
    return "a value"


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _all_finite(value: Any) -> bool:
    """No nan or inf anywhere in ``value`` (JSON lists and objects included)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_all_finite(v) for v in value)
    if isinstance(value, Mapping):
        return all(_all_finite(v) for v in value.values())
    return True

