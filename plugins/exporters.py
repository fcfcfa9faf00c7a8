"""emokit's built-in exporters (through the emokit_exporters hook, like a third party's)."""

from __future__ import annotations

from emokit import hookimpl


@hookimpl
def emokit_exporters() -> list:
    """Filled in by issue #19's work."""
    return []
