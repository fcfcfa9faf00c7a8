"""A plugin whose ``emokit_commands()`` raises: skipped with a warning, every other command works."""

from __future__ import annotations

from emokit import hookimpl


@hookimpl
def emokit_commands() -> list:
    raise RuntimeError("the command table is missing")
