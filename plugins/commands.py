"""emokit's built-in commands (through the emokit_commands hook, like a third party's)."""

from __future__ import annotations

from emokit import hookimpl


@hookimpl
def emokit_commands() -> list:
    """Filled in by issue #19's work."""
    return []
