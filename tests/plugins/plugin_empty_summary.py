"""A record with an empty summary (``emokit plugins`` would show a blank row)."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord
from plugin_good import tiny_test_arch


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [ArchitectureRecord("tiny", "", tiny_test_arch)]
