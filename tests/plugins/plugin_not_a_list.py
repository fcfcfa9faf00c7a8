"""A hook that returns one record instead of a list of records."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord
from plugin_good import tiny_test_arch


@hookimpl
def emokit_architectures() -> ArchitectureRecord:
    return ArchitectureRecord("tiny", "A lone record", tiny_test_arch)
