"""Declares an option its build function does not accept (a typo)."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord
from plugin_good import tiny_test_arch


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [ArchitectureRecord("tiny", "A tiny network", tiny_test_arch, options={"filtres": 8})]
