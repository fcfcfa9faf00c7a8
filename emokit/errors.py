"""User-facing errors: each one prints as a single clear line, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EmokitError(Exception):
    """An error caused by user input (a file, row, option or plugin); its message is one line."""


class UnknownNameError(EmokitError, KeyError):
    """A plugin name that no registered plugin provides."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        super().__init__(f"Unknown {kind} '{name}'.{hint} Available: {', '.join(known) or '(none)'}.")
        self.kind, self.name, self.known = kind, name, known

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class PluginError(EmokitError):
    """A plugin that is broken: wrong record type, missing fields, duplicate names."""
