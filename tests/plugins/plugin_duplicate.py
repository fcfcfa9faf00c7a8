"""Provides an architecture named like a built-in one."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord
from plugin_good import tiny_test_arch


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [ArchitectureRecord("small_cnn", "Clashes with the built-in small_cnn", tiny_test_arch)]
