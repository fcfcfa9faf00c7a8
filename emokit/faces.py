"""What every face detector shares: choosing one (``--detector NAME[=key=value,...]``), box order and
overlap, and the margin a face is cropped with.

Detectors themselves live in their plugins (``plugins/haar.py``); the frame pipeline that finds, crops
and classifies faces is :mod:`emokit.inference.frames`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from emokit.errors import EmokitError
from emokit.options import parse_named, parse_options
from emokit.records import Box, FaceDetector, FaceDetectorRecord

if TYPE_CHECKING:
    from emokit.registry import Registry


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
