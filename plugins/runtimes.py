"""emokit's built-in runtimes (through the emokit_runtimes hook, like a third party's)."""

from __future__ import annotations

from emokit import hookimpl


@hookimpl
def emokit_runtimes() -> list:
    """Filled in by issue #19's work."""
    return []
