"""Faces in photos: find them, crop them with a margin, and turn them into a model-input batch.

The crops go through :func:`emokit.preprocess.to_model_input`, the same path training data takes,
so a face from a photo reaches the model exactly as a face from the dataset does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from emokit.errors import EmokitError
from emokit.options import parse_named, parse_options
from emokit.preprocess import to_model_input
from emokit.records import Box, FaceDetector, FaceDetectorRecord

if TYPE_CHECKING:
    from emokit.registry import Registry

#: The cascade file OpenCV ships (opencv-python wheels include it under ``cv2.data.haarcascades``).
HAAR_CASCADE = "haarcascade_frontalface_default.xml"


class HaarFaceDetector:
    """OpenCV's Viola-Jones frontal-face Haar cascade: fast on a CPU, frontal faces only.

    The classifier is loaded once per detector instance (loading parses a 1 MB XML file).
    ``detectMultiScale`` is not safe to call on one classifier from several threads at once;
    use one detector per thread.
    """

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 30) -> None:
        if scale_factor <= 1.0:
            raise EmokitError(f"scale_factor must be above 1.0, got {scale_factor}.")
        if min_neighbors < 0:
            raise EmokitError(f"min_neighbors must be 0 or more, got {min_neighbors}.")
        if min_size < 1:
            raise EmokitError(f"min_size must be at least 1 pixel, got {min_size}.")
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = int(min_size)
        path = Path(cv2.data.haarcascades) / HAAR_CASCADE
        self._classifier = cv2.CascadeClassifier(str(path))
        if self._classifier.empty():
            raise EmokitError(f"OpenCV's Haar cascade could not be loaded from {path}; reinstall opencv-python-headless.")

    def detect(self, image: np.ndarray) -> list[Box]:
        """Faces in a uint8 (H, W) gray or (H, W, 3) RGB image, largest first."""
        gray = to_model_input(image, size=image.shape[:2], channels=1)[:, :, 0]
        # Equalising evens out lighting, which the cascade's fixed thresholds are sensitive to.
        gray = cv2.equalizeHist(gray)
        found = self._classifier.detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
        )
        boxes = [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in np.reshape(found, (-1, 4))]
        return largest_first(boxes)


@dataclass(frozen=True)
class DetectorChoice:
    """A face detector chosen by ``--detector NAME[=key=value,...]``: its record and the options given, checked."""

    record: FaceDetectorRecord
    #: The options the user gave, each checked against the record's declaration; the rest keep ``create``'s defaults.
    options: dict[str, Any] = field(default_factory=dict)

    def create(self, preferred: Mapping[str, Any] | None = None) -> FaceDetector:
        """A new detector. ``preferred`` options (the demo's webcam settings) apply where the record declares
        them and the user did not set them: what the user asks for wins."""
        chosen = {k: v for k, v in (preferred or {}).items() if k in self.record.options}
        return self.record.create(**{**chosen, **self.options})


def parse_detector(registry: Registry, text: str | DetectorChoice) -> DetectorChoice:
    """``NAME``, ``NAME=key=value,...`` or ``NAME:key=value,...`` (as ``--aug``), checked without creating it.

    Cheap (no model, no detector loaded), so commands call it before anything heavy. An unknown
    name lists the detectors that exist; a bad option is one line naming it and what it allows.
    A choice already parsed is returned as it is, so callers may pass either.
    """
    if isinstance(text, DetectorChoice):
        return text
    name, pairs = parse_named(text, "face detector")
    record = registry.get("face_detector", name)
    return DetectorChoice(record, parse_options(pairs, record.options, f"Face detector '{name}'"))


def open_detector(registry: Registry, text: str | DetectorChoice, preferred: Mapping[str, Any] | None = None) -> FaceDetector:
    """The detector ``text`` names, created with its options (see :func:`parse_detector`, :meth:`DetectorChoice.create`)."""
    return parse_detector(registry, text).create(preferred)


def largest_first(boxes: list[Box]) -> list[Box]:
    """Boxes by decreasing area (ties: left to right, top to bottom): the main face first."""
    return sorted(boxes, key=lambda b: (-b.w * b.h, b.x, b.y))


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    height = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a.w * a.h + b.w * b.h - inter)


def face_region(box: Box, shape: tuple[int, ...], margin: float = 0.2) -> Box:
    """The region :func:`crop_face` cuts for ``box``: grown by ``margin`` of its size on every side, clamped.

    FER-2013 faces include some forehead and chin; detector boxes are tighter, hence the margin.
    """
    if margin < 0:
        raise EmokitError(f"margin must be 0 or more, got {margin}.")
    height, width = shape[:2]
    dx, dy = int(round(box.w * margin)), int(round(box.h * margin))
    left, top = max(0, box.x - dx), max(0, box.y - dy)
    right, bottom = min(width, box.x + box.w + dx), min(height, box.y + box.h + dy)
    if right <= left or bottom <= top:
        raise EmokitError(f"Face box {box} lies outside the {width}x{height} image.")
    return Box(left, top, right - left, bottom - top)


def crop_face(image: np.ndarray, box: Box, margin: float = 0.2) -> np.ndarray:
    """The pixels of :func:`face_region` (the box grown by ``margin``, clamped to the image)."""
    region = face_region(box, image.shape, margin)
    return np.ascontiguousarray(image[region.y:region.y + region.h, region.x:region.x + region.w])


def faces_to_batch(
    image: np.ndarray,
    detector: FaceDetector,
    size: tuple[int, int] = (48, 48),
    channels: int = 1,
    margin: float = 0.2,
) -> tuple[list[Box], np.ndarray]:
    """Find the faces in ``image`` and return (boxes largest first, uint8 batch (N, H, W, C)).

    A photo without faces gives an empty list and a batch of shape (0, H, W, C), so callers can
    run the model on it without a special case.
    """
    boxes = detector.detect(image)
    height, width = int(size[0]), int(size[1])
    batch = np.empty((len(boxes), height, width, channels), dtype=np.uint8)
    for i, box in enumerate(boxes):
        batch[i] = to_model_input(crop_face(image, box, margin), (height, width), channels)
    return boxes, batch
