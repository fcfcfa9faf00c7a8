"""OpenCV's Haar-cascade frontal face detector, with a detection score per face."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from emokit import hookimpl
from emokit.errors import EmokitError
from emokit.options import Option
from emokit.records import Box, FaceDetectorRecord

if TYPE_CHECKING:
    import numpy as np

# OpenCV and numpy are imported where a detector is made or used: `emokit --help` imports this module.

#: The cascade file OpenCV ships (opencv-python wheels include it under ``cv2.data.haarcascades``).
HAAR_CASCADE = "haarcascade_frontalface_default.xml"
#: The cascade's last-stage weight that maps to a score of 0.5, and the weight per logistic unit.
#: Measured on scikit-image's photos with this cascade: real faces weigh 5-7.5, the false hits that
#: ``min_neighbors=1`` lets through -1.5 to 3.4; so a face scores 0.92-0.99 and those hits 0.01-0.6.
SCORE_MIDPOINT = 3.0
SCORE_SCALE = 1.0


def haar_score(weight: float) -> float:
    """A 0-1 score from the cascade's level weight (the sum of its last stage's weak-classifier votes):
    the logistic of ``(weight - SCORE_MIDPOINT) / SCORE_SCALE``. Higher means more face-like; it is a
    monotone confidence, not a calibrated probability."""
    return 1.0 / (1.0 + math.exp(-(float(weight) - SCORE_MIDPOINT) / SCORE_SCALE))


class HaarFaceDetector:
    """OpenCV's Viola-Jones frontal-face Haar cascade: fast on a CPU, frontal faces only.

    The classifier is loaded once per detector instance (loading parses a 1 MB XML file).
    ``detectMultiScale3`` is not safe to call on one classifier from several threads at once;
    use one detector per thread. Its ``outputRejectLevels`` mode returns the same boxes as
    ``detectMultiScale`` plus each face's level weight, which :func:`haar_score` maps to ``Box.score``.
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
        import cv2  # noqa: PLC0415

        path = Path(cv2.data.haarcascades) / HAAR_CASCADE
        self._classifier = cv2.CascadeClassifier(str(path))
        if self._classifier.empty():
            raise EmokitError(f"OpenCV's Haar cascade could not be loaded from {path}; reinstall opencv-python-headless.")

    def detect(self, image: np.ndarray) -> list[Box]:
        """Faces in a uint8 (H, W) gray or (H, W, 3) RGB image, largest first, each with its score."""
        import cv2  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415

        from emokit.faces import largest_first  # noqa: PLC0415
        from emokit.preprocess import to_model_input  # noqa: PLC0415

        gray = to_model_input(image, size=image.shape[:2], channels=1)[:, :, 0]
        # Equalising evens out lighting, which the cascade's fixed thresholds are sensitive to.
        gray = cv2.equalizeHist(gray)
        found, _, weights = self._classifier.detectMultiScale3(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
            outputRejectLevels=True,
        )
        boxes = [Box(int(x), int(y), int(w), int(h), haar_score(weight))
                 for (x, y, w, h), weight in zip(np.reshape(found, (-1, 4)), np.ravel(weights))]
        return largest_first(boxes)


@hookimpl
def emokit_face_detectors() -> list[FaceDetectorRecord]:
    """The Haar cascade detector; options are passed to :class:`HaarFaceDetector`."""
    return [
        FaceDetectorRecord(
            name="haar",
            summary="OpenCV Haar cascade (frontal faces), fast on CPU",
            create=HaarFaceDetector,
            # As HaarFaceDetector checks them (OpenCV's detectMultiScale needs scaleFactor > 1).
            options={"scale_factor": Option(1.1, above=1, help="Step between searched face sizes"),
                     "min_neighbors": Option(5, at_least=0, help="Overlapping hits needed to keep a face"),
                     "min_size": Option(30, at_least=1, help="Smallest face side, in pixels")},
        )
    ]
