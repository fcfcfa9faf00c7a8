"""The one frame pipeline: decode -> detect -> track -> crop -> preprocess -> classify -> annotate.

``emokit predict``, the demo (photo tab, webcam stream, saliency), the Python API and
``benchmarks/bench_frame.py`` all analyse images through :class:`FramePipeline`, so a face is found,
cropped and classified the same way everywhere:

* **decode**: encoded bytes -> uint8 RGB or gray (:func:`emokit.preprocess.decode_image`);
* **detect**: the face detector plugin, optionally on a copy shrunk to ``detect_width`` (Haar's cost
  grows with the pixel count; boxes are scaled back, crops come from the full-resolution image);
* **track**: given a :class:`~emokit.inference.tracking.FaceTrack`, faces are looked for only
  around where they were in the previous frame;
* **crop** with the run's margin and **preprocess** (:func:`emokit.preprocess.to_model_input`, the
  training path) to the run's input size and channels, all from the runtime's
  :class:`~emokit.inference.preprocessing.Preprocessing`;
* **classify**: one :meth:`Runtime.probabilities <emokit.inference.runtime.Runtime.probabilities>`
  call for all the faces of a frame;
* **annotate**: boxes and labels drawn (:mod:`emokit.inference.annotate`).

Each stage is timed (milliseconds in :attr:`FrameAnalysis.timings`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from emokit.errors import EmokitError
from emokit.faces import DetectorChoice, face_region, open_detector, parse_detector
from emokit.inference.preprocessing import Preprocessing, read_preprocessing
from emokit.inference.tracking import FaceTrack, TrackingDetector
from emokit.preprocess import decode_image, to_model_input
from emokit.records import Box, FaceDetector

if TYPE_CHECKING:
    from emokit.inference.runtime import Runtime
    from emokit.registry import Registry


@dataclass(frozen=True)
class Face:
    """One face: where it is (``box``, with the detector's ``box.score``), each class's probability,
    and the top class (``emotion``, derived from the probabilities when not given)."""

    box: Box
    probabilities: dict[str, float]
    emotion: str = ""

    def __post_init__(self) -> None:
        if not self.emotion:
            object.__setattr__(self, "emotion", max(self.probabilities, key=self.probabilities.get))

    @property
    def score(self) -> float:
        """The detector's confidence in this face, 0-1 (1.0 from detectors that give none)."""
        return self.box.score

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the shape of ``fer``'s ``detect_emotions`` (``box`` [x, y, w, h], ``emotions``)
        plus deepface's ``dominant_emotion`` and the detection ``score``."""
        box = self.box
        return {"box": [box.x, box.y, box.w, box.h], "score": round(float(box.score), 4),
                "emotions": dict(self.probabilities), "dominant_emotion": self.emotion}


@dataclass
class FrameAnalysis:
    """One analysed image: the faces (largest first), their model inputs and crop regions (same
    order), per-stage timings in ms and, when asked for, the annotated image."""

    faces: list[Face]
    #: The model-input batch (N, H, W, C) uint8, one row per face (the demo's saliency reuses it).
    batch: np.ndarray
    #: The region each face's crop was cut from (its box grown by the run's margin, clamped).
    regions: list[Box]
    timings: dict[str, float] = field(default_factory=dict)
    #: The image analysed (decoded, when bytes were given).
    image: np.ndarray | None = None
    annotated: np.ndarray | None = None


class WholeImage:
    """A "detector" that returns the whole image as one face, for images that are already face crops."""

    def detect(self, image: np.ndarray) -> list[Box]:
        """One box covering ``image``."""
        return [Box(0, 0, image.shape[1], image.shape[0])]


class ScaledDetector:
    """Runs a detector on a copy of the image shrunk to ``width`` and scales its boxes back."""

    def __init__(self, detector: FaceDetector, width: int | None) -> None:
        self.detector = detector
        self.width = width

    def detect(self, image: np.ndarray) -> list[Box]:
        """Faces in ``image``, largest first, in full-resolution coordinates (scores kept)."""
        height, width = image.shape[:2]
        if not self.width or width <= self.width:
            return self.detector.detect(image)
        scale = width / self.width
        small = cv2.resize(image, (self.width, max(1, round(height / scale))), interpolation=cv2.INTER_AREA)
        return [Box(int(round(b.x * scale)), int(round(b.y * scale)), int(round(b.w * scale)), int(round(b.h * scale)), b.score)
                for b in self.detector.detect(small)]


class DetectorPool:
    """One detector per thread: OpenCV's cascade classifier must not be shared between threads."""

    def __init__(self, create: Callable[[], FaceDetector]) -> None:
        self._create = create
        self._local = threading.local()

    def get(self) -> FaceDetector:
        """This thread's detector, created on first use."""
        detector = getattr(self._local, "detector", None)
        if detector is None:
            detector = self._local.detector = self._create()
        return detector


def detector_pool(registry: Registry, detector: str | DetectorChoice | None,
                  preferred: Mapping[str, Any] | None = None) -> DetectorPool:
    """A pool of the face detector ``NAME[=key=value,...]`` (see :func:`emokit.faces.parse_detector`),
    checked now: an unknown name or a bad option fails here, not on the first photo. ``None``: every
    image is one whole face (:class:`WholeImage`).

    ``preferred`` options are passed to the detector only where its record declares them and the
    user did not set them, so any detector plugin works and the user's choice wins.
    """
    if detector is None:
        return DetectorPool(WholeImage)
    choice = parse_detector(registry, detector)
    return DetectorPool(lambda: open_detector(registry, choice, preferred))


def preprocessing_of(runtime: Runtime) -> Preprocessing:
    """How faces become ``runtime``'s input: its ``preprocessing``, or (a classifier without one) its run's section."""
    found = getattr(runtime, "preprocessing", None)
    if isinstance(found, Preprocessing):
        return found
    run = getattr(runtime, "run", None)
    return read_preprocessing(run) if run is not None else Preprocessing.for_spec(runtime.spec)


def runtime_label(runtime: Runtime) -> str:
    """What runs the model, for people (``keras+torch``, ``litert``, ``onnx``): the runtime's ``runtime`` name
    where it has one (the Keras classifier's ``label`` is its backend alone), else its ``label``."""
    return str(getattr(runtime, "runtime", None) or runtime.label)


def check_image(image: object) -> np.ndarray:
    """``image`` as a uint8 (H, W) gray or (H, W, 3|4) colour array, or a one-line error saying what is wrong."""
    if image is None:
        raise EmokitError("The image is empty.")
    array = np.asarray(image)
    if array.size == 0:
        raise EmokitError("The image is empty.")
    if array.dtype != np.uint8:
        raise EmokitError(f"The image must be uint8 pixels (0-255), got {array.dtype}.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise EmokitError(f"The image must be (H, W) gray or (H, W, 3) RGB, got shape {array.shape}.")
    return array if array.ndim == 2 or array.shape[2] == 3 else np.ascontiguousarray(array[:, :, :3])


class FramePipeline:
    """Finds, crops, classifies and (optionally) annotates the faces of an image with one runtime.

    ``detector`` is a :class:`DetectorPool` (one detector per thread: the pipeline may then serve
    several threads, as the demo's sessions do), a single detector (one thread), or ``None`` for
    images that are already face crops. ``detect_width`` shrinks the image for detection only.
    ``preprocessing`` overrides the runtime's (tests, experiments).
    """

    def __init__(self, runtime: Runtime, detector: DetectorPool | FaceDetector | None = None, *,
                 detect_width: int | None = None, preprocessing: Preprocessing | None = None) -> None:
        self.runtime = runtime
        if detector is None:
            detector = DetectorPool(WholeImage)
        self.detectors = detector if isinstance(detector, DetectorPool) else DetectorPool(lambda: detector)
        self.detect_width = detect_width
        self.preprocessing = preprocessing or preprocessing_of(runtime)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.runtime.class_names)

    def detect(self, image: np.ndarray, track: FaceTrack | None = None) -> list[Box]:
        """The faces' boxes in ``image``, largest first; with ``track``, searched near the last frame's faces."""
        detector: FaceDetector = self.detectors.get()
        if track is not None:
            detector = TrackingDetector(detector, track)
        if self.detect_width:
            detector = ScaledDetector(detector, self.detect_width)
        return detector.detect(image)

    def crop(self, image: np.ndarray, boxes: list[Box]) -> tuple[list[Box], np.ndarray]:
        """Each box grown by the run's margin (regions) and the model-input batch (N, H, W, C) uint8 cut from them."""
        p = self.preprocessing
        height, width = p.input_size
        regions = [face_region(box, image.shape, p.margin) for box in boxes]
        batch = np.empty((len(boxes), height, width, p.channels), dtype=np.uint8)
        for i, r in enumerate(regions):
            batch[i] = to_model_input(image[r.y:r.y + r.h, r.x:r.x + r.w], (height, width), p.channels)
        return regions, batch

    def classify(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes) for a model-input batch, in one runtime call (none for no faces)."""
        if len(batch) == 0:
            return np.zeros((0, len(self.class_names)), dtype=np.float32)
        return np.asarray(self.runtime.probabilities(batch), dtype=np.float32)

    def analyze(self, image: np.ndarray | bytes, *, track: FaceTrack | None = None, annotate: bool = False,
                numbered: bool = False, source: str = "The image") -> FrameAnalysis:
        """Every face in ``image`` (decoded uint8, or encoded bytes named ``source`` in errors), timed by stage.

        ``track`` follows faces between the frames of one stream. ``annotate`` also draws the boxes
        and labels (``numbered``: "1: happy 80%", matching per-face bars) or "no face found".
        """
        timings: dict[str, float] = {}
        start = time.perf_counter()
        if isinstance(image, (bytes, bytearray, memoryview)):
            image = decode_image(bytes(image), source)
            timings["decode"] = (time.perf_counter() - start) * 1e3
            start = time.perf_counter()
        image = check_image(image)
        boxes = self.detect(image, track)
        detected = time.perf_counter()
        regions, batch = self.crop(image, boxes)
        prepared = time.perf_counter()
        probs = self.classify(batch)
        classified = time.perf_counter()
        names = self.class_names
        faces = [Face(box, {name: float(p) for name, p in zip(names, row)}) for box, row in zip(boxes, probs)]
        timings.update(detect=(detected - start) * 1e3, preprocess=(prepared - detected) * 1e3,
                       classify=(classified - prepared) * 1e3)
        analysis = FrameAnalysis(faces, batch, regions, timings, image)
        if annotate:
            self.annotate(image, analysis, numbered)
        return analysis

    @staticmethod
    def annotate(image: np.ndarray, analysis: FrameAnalysis, numbered: bool = False) -> np.ndarray:
        """Draw ``analysis``' faces on a copy of ``image`` (or "no face found"); sets and returns ``analysis.annotated``."""
        from emokit.inference.annotate import draw_faces, draw_text  # noqa: PLC0415 - only callers that draw pay for it

        start = time.perf_counter()
        if analysis.faces:
            analysis.annotated = draw_faces(image, analysis.faces, numbered=numbered)
        else:
            analysis.annotated = draw_text(image, "no face found")
        analysis.timings["annotate"] = (time.perf_counter() - start) * 1e3
        return analysis.annotated
