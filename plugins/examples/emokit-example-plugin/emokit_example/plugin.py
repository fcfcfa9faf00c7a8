"""The hooks emokit calls. The ``example`` entry point in pyproject.toml names this module.

Each hook returns a list of records: plain data plus a callable. Importing this module must
stay cheap and must not import Keras, because ``emokit plugins`` imports every plugin.
"""

from __future__ import annotations

from emokit import hookimpl
from emokit.options import Option
from emokit.records import (
    ArchitectureRecord,
    AugmentationRecord,
    CommandRecord,
    FaceDetectorRecord,
    LazyImport,
    default_options,
)

from emokit_example.architectures import lenet
from emokit_example.augmentations import gamma
from emokit_example.faces import WholeImageDetector


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    """The LeNet-style CNN; its options (width, ...) are read from the function's keyword defaults.

    Each ``Option`` declares what values an option allows; emokit refuses any other ``--set`` value
    in one line before training starts. Options not named here accept any value of their type.
    """
    options = default_options(lenet, width=Option(above=0, at_most=16), dense_units=Option(at_least=1, at_most=16384),
                              dropout=Option(at_least=0, below=1), pooling=Option(choices=("max", "avg")))
    return [ArchitectureRecord("lenet", "LeNet-5-style CNN: two conv+pool stages, two dense layers (example plugin)",
                               lenet, options)]


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    """Random gamma correction."""
    return [AugmentationRecord("gamma", "Random gamma (mid-tone brightness) correction (example plugin)",
                               gamma, default_options(gamma, max_gamma=Option(at_least=1)))]


@hookimpl
def emokit_face_detectors() -> list[FaceDetectorRecord]:
    """The whole-image detector for photos that are already face crops."""
    return [FaceDetectorRecord("whole_image", "The central square of the photo; for photos already cropped to a face (example plugin)",
                               WholeImageDetector, default_options(WholeImageDetector, margin=Option(at_least=0, below=0.5)))]


@hookimpl
def emokit_commands() -> list[CommandRecord]:
    """``emokit faces-count IMAGE...``; its module loads only when the command runs."""
    return [CommandRecord("faces-count", "Count the faces a detector finds in each photo (example plugin)",
                          LazyImport("emokit_example.commands:faces_count"))]
