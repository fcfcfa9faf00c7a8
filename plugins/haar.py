"""OpenCV's Haar-cascade frontal face detector."""

from __future__ import annotations

from emokit import hookimpl
from emokit.faces import HaarFaceDetector
from emokit.options import Option
from emokit.records import FaceDetectorRecord


@hookimpl
def emokit_face_detectors() -> list[FaceDetectorRecord]:
    """The Haar cascade detector; options are passed to ``HaarFaceDetector``."""
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
