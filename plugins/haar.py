"""OpenCV's Haar-cascade frontal face detector."""

from __future__ import annotations

from emokit import hookimpl
from emokit.faces import HaarFaceDetector
from emokit.records import FaceDetectorRecord


@hookimpl
def emokit_face_detectors() -> list[FaceDetectorRecord]:
    """The Haar cascade detector; options are passed to ``HaarFaceDetector``."""
    return [
        FaceDetectorRecord(
            name="haar",
            summary="OpenCV Haar cascade (frontal faces), fast on CPU",
            create=HaarFaceDetector,
            options={"scale_factor": 1.1, "min_neighbors": 5, "min_size": 30},
        )
    ]
