"""A well-formed test plugin: one tiny architecture, augmentation, dataset and face detector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emokit import hookimpl
from emokit.records import (
    ArchitectureRecord, AugmentationRecord, Box, DataRequest, Dataset, DatasetRecord, FaceDetectorRecord, Split,
    default_options,
)
from emokit.spec import Activation, Conv, Dense, GlobalPool, ModelSpec


def tiny_test_arch(input_shape: tuple[int, int, int], class_names: tuple[str, ...], filters: int = 4) -> ModelSpec:
    """One conv, global pooling, softmax."""
    layers = (Conv(filters, 3, activation="relu"), GlobalPool("avg"), Dense(len(class_names)), Activation("softmax"))
    return ModelSpec("tiny_test_arch", layers, input_shape, class_names, options={"filters": filters})


def test_brightness(keras: Any, factor: float = 0.3) -> list[Any]:
    """Keras's random brightness on 0-255 pixels."""
    return [keras.layers.RandomBrightness(factor, value_range=(0, 255))]


def load_test_dataset(request: DataRequest) -> Dataset:
    """Eight blank images per split, two classes."""
    h, w = request.image_size
    split = Split(np.zeros((8, h, w, request.channels), np.uint8), np.arange(8) % 2)
    return Dataset("test_blank", ("a", "b"), {"train": split, "val": split, "test": split}, "blank", "test")


def can_open_test_dataset(path: Path) -> bool:
    """Only files called ``blank.test``."""
    return path.name == "blank.test" and path.exists()


class CornerDetector:
    """Always finds a face in the top-left corner."""

    def __init__(self, size: int = 10) -> None:
        self.size = size

    def detect(self, image: np.ndarray) -> list[Box]:
        return [Box(0, 0, self.size, self.size)]


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [ArchitectureRecord("tiny_test_arch", "A one-conv test network", tiny_test_arch, default_options(tiny_test_arch))]


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    return [AugmentationRecord("test_brightness", "Random brightness (test plugin)", test_brightness, default_options(test_brightness))]


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    return [DatasetRecord("test_blank", "Blank images (test plugin)", load_test_dataset, can_open_test_dataset)]


@hookimpl
def emokit_face_detectors() -> list[FaceDetectorRecord]:
    return [FaceDetectorRecord("test_corner", "A face in the corner (test plugin)", CornerDetector, default_options(CornerDetector))]
