"""A hook that declares an argument emokit's hooks do not have."""

from emokit import hookimpl
from emokit.records import ArchitectureRecord


@hookimpl
def emokit_architectures(registry) -> list[ArchitectureRecord]:  # noqa: ANN001
    return []
