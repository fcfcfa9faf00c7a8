"""Two implementations of one hook in one plugin, the second under another name through pluggy's ``specname``."""

from __future__ import annotations

from emokit import hookimpl
from emokit.records import CommandRecord


def ping() -> None:
    """Print pong."""
    print("pong")


@hookimpl
def emokit_commands() -> list[CommandRecord]:
    return [CommandRecord("ping-test", "Print pong (test plugin)", ping)]


@hookimpl(specname="emokit_commands")
def more_commands() -> list[CommandRecord]:
    return [CommandRecord("pong-test", "Print pong too (test plugin)", ping)]
