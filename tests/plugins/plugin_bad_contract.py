"""Loads and registers fine, but breaks the runtime contract that emokit.testing checks."""

from __future__ import annotations

from typing import Any

from emokit import FER_CLASSES, hookimpl
from emokit.records import ArchitectureRecord, AugmentationRecord
from emokit.spec import Conv, Dense, GlobalPool, ModelSpec


def no_softmax(input_shape: tuple[int, int, int], class_names: tuple[str, ...]) -> ModelSpec:
    """Ends in raw logits: outputs do not sum to 1."""
    return ModelSpec("no_softmax", (Conv(4), GlobalPool(), Dense(len(class_names))), input_shape, class_names)


def fixed_classes(input_shape: tuple[int, int, int], class_names: tuple[str, ...]) -> ModelSpec:
    """Ignores the class names it is given."""
    return ModelSpec("fixed_classes", (Conv(4), GlobalPool(), Dense(7)), input_shape, FER_CLASSES)


def always_darker(keras: Any) -> list[Any]:
    """Halves every pixel, at inference too."""
    return [keras.layers.Rescaling(0.5)]


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [
        ArchitectureRecord("no_softmax", "Outputs logits, not probabilities", no_softmax),
        ArchitectureRecord("fixed_classes", "Ignores class_names", fixed_classes),
    ]


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    return [
        AugmentationRecord("always_darker", "Not the identity at inference", always_darker),
        AugmentationRecord("lambda_flip", "A lambda: cannot be re-created per backend",
                           lambda keras: [keras.layers.RandomFlip("horizontal")]),
    ]
