"""Turn ``key=value`` strings from the command line into typed plugin options."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from emokit.errors import EmokitError

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


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


def _split_pairs(text: str) -> list[str]:
    """Split ``a=1,b=[2,3]`` on the commas that are not inside brackets."""
    return [p.strip() for p in re.split(r",(?![^\[]*\])", text) if p.strip()]


def parse_options(pairs: Iterable[str], defaults: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Parse ``key=value`` items (each may hold several, comma-separated) against ``defaults``.

    An unknown key lists the options that exist; a bad value names the option and its type.
    """
    out: dict[str, Any] = {}
    for item in (p for text in pairs for p in _split_pairs(text)):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise EmokitError(f"{owner}: expected key=value, got '{item}'.")
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "(none)"
            raise EmokitError(f"{owner} has no option '{key}'. Options: {known}.")
        out[key] = coerce(value.strip(), defaults[key], f"{owner} option '{key}'")
    return out


def parse_named(text: str) -> tuple[str, list[str]]:
    """Split ``NAME``, ``NAME=key=value,...`` or ``NAME:key=value,...`` into the name and its option text."""
    name, sep, rest = text.partition(":")
    if not sep:
        name, sep, rest = text.partition("=")
    return name.strip(), [rest] if rest.strip() else []
