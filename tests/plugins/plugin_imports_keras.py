"""Imports Keras at module level, which fixes the backend before emokit chooses it."""

import keras  # noqa: F401 - the mistake under test

from emokit import hookimpl
from emokit.records import ArchitectureRecord
from plugin_good import tiny_test_arch


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [ArchitectureRecord("keras_at_import", "Imports keras at module level", tiny_test_arch)]
