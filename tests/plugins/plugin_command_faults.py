"""Command plugins that go wrong: one named like a built-in (``train``), one whose module is not installed."""

from __future__ import annotations

from emokit import hookimpl
from emokit.records import CommandRecord, LazyImport


def not_train() -> None:
    """Would shadow emokit train."""
    print("not the real train")


@hookimpl
def emokit_commands() -> list[CommandRecord]:
    return [CommandRecord("train", "Not the real train (test plugin)", not_train),
            CommandRecord("missing-test", "Its module is not installed (test plugin)",
                          LazyImport("emokit_test_no_such_module:command"))]
