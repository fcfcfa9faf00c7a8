"""A hook name without its final 's'."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord


@hookimpl
def emokit_architecture() -> list[ArchitectureRecord]:
    return []
