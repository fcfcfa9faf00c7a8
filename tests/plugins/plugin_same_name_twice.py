"""Returns two architectures of the same name from one hook."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord
from plugin_good import tiny_test_arch


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [ArchitectureRecord("tiny", "One", tiny_test_arch), ArchitectureRecord("tiny", "Two", tiny_test_arch)]
