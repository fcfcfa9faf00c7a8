"""Imports fine, but its hook raises when emokit calls it (a dependency looked up too late)."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    raise RuntimeError("the model zoo at ~/.zoo is missing")
