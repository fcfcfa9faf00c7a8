"""A record built without its required summary: the dataclass raises inside the hook."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord
from plugin_good import tiny_test_arch


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [ArchitectureRecord(name="tiny", build=tiny_test_arch)]  # type: ignore[call-arg]
