"""The demo's work, without Gradio: models loaded once per run, per-thread detectors, frame analysis.

A frame goes through the same path as ``emokit predict``: the detector finds boxes, then
:func:`emokit.faces.faces_to_batch` crops and preprocesses them (the training preprocessing)
and :meth:`emokit.predictor.FaceClassifier.probabilities` classifies the whole batch in one direct
model call. Detection may run on a downscaled copy of the frame (Haar detection cost grows with
the pixel count); the boxes are scaled back, and the crops come from the full-resolution frame.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emokit.errors import EmokitError
from emokit.faces import DetectorChoice, face_region, faces_to_batch, largest_first, open_detector, overlap, parse_detector
from emokit.predictor import FaceClassifier, FacePrediction, open_predictor
from emokit.records import Box, FaceDetector
from emokit.registry import Registry
from emokit.runs import Run, find_run, latest_usable_run, list_runs, require_usable, runs_root, unusable_reason

#: Webcam frames are detected at this width: about 4x fewer pixels than 640x480 for Haar to scan.
STREAM_DETECT_WIDTH = 320
#: Photos are detected at most this wide (a 12-megapixel photo at full size takes seconds).
PHOTO_DETECT_WIDTH = 960
#: The crop margin around each detected face (as in ``emokit predict``).
MARGIN = 0.2
#: Detector options for webcam frames, used where the detector declares them: a coarser Haar
#: scale pyramid (1.2 instead of 1.1) halves detection time; webcam faces are large and frontal.
STREAM_DETECTOR_OPTIONS = {"scale_factor": 1.2}
#: One math thread per model call: a batch of one to four 48x48 faces is too small for
#: intra-op parallelism to pay, and on a busy CPU the threads' synchronisation costs 10x
#: (measured: 97 ms vs 6.6 ms per call on torch). Set before the backend is imported; an
#: explicit environment value wins.
INFERENCE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class ScaledDetector:
    """Runs a detector on a copy of the image shrunk to ``width`` and scales its boxes back."""

    def __init__(self, detector: FaceDetector, width: int | None) -> None:
        self.detector = detector
        self.width = width

    def detect(self, image: np.ndarray) -> list[Box]:
        """Faces in ``image``, largest first, in full-resolution coordinates."""
        height, width = image.shape[:2]
        if not self.width or width <= self.width:
            return self.detector.detect(image)
        scale = width / self.width
        small = cv2.resize(image, (self.width, max(1, round(height / scale))), interpolation=cv2.INTER_AREA)
        boxes = self.detector.detect(small)
        return [
            Box(int(round(b.x * scale)), int(round(b.y * scale)), int(round(b.w * scale)), int(round(b.h * scale)))
            for b in boxes
        ]


#: Frames between full searches while faces are tracked: a new face appears within about a second.
TRACK_REFRESH_FRAMES = 10
#: How far around its last box a tracked face is looked for, as a share of the box size per side.
TRACK_GROW = 0.5


@dataclass
class FaceTrack:
    """Where the faces were in the previous frame (in the detector's coordinates), that frame's
    shape, and frames since a full search."""

    boxes: list[Box] = field(default_factory=list)
    since_full: int = 0
    shape: tuple[int, ...] = ()


class TrackingDetector:
    """Looks for each face only around where it was in the previous frame; searches the whole frame
    when a face is lost, when there was none, and every ``refresh`` frames (to find new faces).

    A webcam face moves little between frames, and scanning a region about twice its size costs a
    tenth of a full Haar search (measured: 1.4-2.5 ms instead of 13-17 ms on a 320x240 frame).
    Works with any detector plugin: the region is handed to its ``detect`` as an image.
    """

    def __init__(self, detector: FaceDetector, track: FaceTrack, refresh: int = TRACK_REFRESH_FRAMES, grow: float = TRACK_GROW) -> None:
        self.detector = detector
        self.track = track
        self.refresh = refresh
        self.grow = grow

    def detect(self, image: np.ndarray) -> list[Box]:
        """Faces in ``image``, largest first; updates the track."""
        track = self.track
        if track.boxes and track.shape == image.shape and track.since_full + 1 < self.refresh:
            found = self._follow(image)
            if found is not None:
                track.boxes, track.since_full = largest_first(found), track.since_full + 1
                return list(track.boxes)
        # No track, a new frame size, a lost face, or time for a refresh: the whole frame.
        track.boxes, track.since_full, track.shape = self.detector.detect(image), 0, image.shape
        return list(track.boxes)

    def _follow(self, image: np.ndarray) -> list[Box] | None:
        """Each tracked face near its last box, or None when one is lost."""
        found: list[Box] = []
        for box in self.track.boxes:
            region = face_region(box, image.shape, self.grow)
            hits = self.detector.detect(image[region.y:region.y + region.h, region.x:region.x + region.w])
            hits = [Box(h.x + region.x, h.y + region.y, h.w, h.h) for h in hits]
            # Two faces close together share search regions: a face already claimed is not taken twice.
            hits = [h for h in hits if all(overlap(h, other) < 0.3 for other in found)]
            if not hits:
                return None
            centre = (box.x + box.w / 2, box.y + box.h / 2)
            found.append(min(hits, key=lambda h: (h.x + h.w / 2 - centre[0]) ** 2 + (h.y + h.h / 2 - centre[1]) ** 2))
        return found


class FixedBoxes:
    """A "detector" that returns boxes found earlier, so preprocessing can be timed apart from detection."""

    def __init__(self, boxes: list[Box]) -> None:
        self.boxes = boxes

    def detect(self, image: np.ndarray) -> list[Box]:
        return list(self.boxes)


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


def detector_pool(registry: Registry, detector: str | DetectorChoice, preferred: dict[str, object] | None = None) -> DetectorPool:
    """A pool of the face detector ``NAME[=key=value,...]`` (see :func:`emokit.faces.parse_detector`),
    checked now: an unknown name or a bad option fails here, not on the first photo.

    ``preferred`` options are passed to the detector only where its record declares them and the
    user did not set them, so any detector plugin works and the user's choice wins.
    """
    choice = parse_detector(registry, detector)
    return DetectorPool(lambda: open_detector(registry, choice, preferred))


class ModelCache:
    """Each run's model, loaded once on first use and kept (the ``capacity`` most recent runs)."""

    def __init__(self, registry: Registry, backend: str | None = None, capacity: int = 4, runtime: str = "auto") -> None:
        self.registry = registry
        self.backend = backend
        self.runtime = runtime
        self.capacity = capacity
        self._loaded: OrderedDict[Path, FaceClassifier] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: Run) -> FaceClassifier:
        """The loaded model of ``run``; concurrent first calls load it once."""
        key = run.path.resolve()
        with self._lock:
            predictor = self._loaded.get(key)
            if predictor is None:
                predictor = open_predictor(run, self.registry, self.backend, self.runtime)
                self._loaded[key] = predictor
                while len(self._loaded) > self.capacity:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(key)
            return predictor


@dataclass(frozen=True)
class RunChoice:
    """The runs folder as the demo shows it: run keys (newest first), the one to open, and why some cannot answer.

    A key is a run's name, or its path for a run outside the folder; ``runs`` maps each key to its run.
    """

    root: Path
    names: list[str]
    selected: str | None
    runs: dict[str, Run] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)


def run_choices(root: Path | None, run: str | None = None) -> RunChoice:
    """Runs in ``root``, newest first, with ``run`` (a name, path or ``latest``) or the newest usable run selected.

    A run still training before its first checkpoint, or stopped before one, has no weights: it is
    listed with the reason it cannot answer but never chosen by default, so the demo does not open
    on a model that fails every photo as if the photo were at fault.
    """
    folder = runs_root(root)
    runs = {r.name: r for r in reversed(list_runs(folder))}
    if run and run != "latest":
        found = find_run(run, folder)
        # A run given by path outside the folder is offered by its path.
        key = found.name if (folder / found.name).resolve() == found.path.resolve() else str(found.path)
        if key not in runs:
            runs = {key: found, **runs}
        selected = key
    else:
        selected = _newest_usable_name(folder)
    unusable = {name: reason for name, r in runs.items() if (reason := unusable_reason(r)) is not None}
    return RunChoice(folder, list(runs), selected, runs, unusable)


def usable_run(name: str, root: Path) -> Run:
    """The run ``name`` under ``root``; one that cannot answer is a one-line error saying why (not blaming the photo)."""
    return require_usable(find_run(name, root))


def _newest_usable_name(root: Path) -> str | None:
    try:
        return latest_usable_run(root).name
    except EmokitError:
        return None


def no_runs_message(root: Path) -> str:
    """What to do when there is no run to demo."""
    return (
        f"No trained runs in `{root}` yet. Train one, then restart the demo (or press Refresh):\n\n"
        f"    emokit train --arch small_cnn --out {root}\n\n"
        "(`--data path/to/fer2013.zip` trains on FER-2013; without it emokit uses synthetic faces.)"
    )


@dataclass
class Analysis:
    """One analysed image: the faces (largest first), the model-input batch and per-stage timings in ms."""

    faces: list[FacePrediction]
    batch: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


def analyze(image: np.ndarray, predictor: FaceClassifier, detector: FaceDetector, margin: float = MARGIN) -> Analysis:
    """Detect, preprocess and classify every face in a uint8 image, timing each stage (ms)."""
    if image is None or np.asarray(image).size == 0:
        raise EmokitError("The image is empty.")
    start = time.perf_counter()
    boxes = detector.detect(image)
    detected = time.perf_counter()
    boxes, batch = faces_to_batch(image, FixedBoxes(boxes), predictor.input_size, predictor.channels, margin)
    prepared = time.perf_counter()
    probs = predictor.probabilities(batch)
    classified = time.perf_counter()
    faces = [
        FacePrediction(box, {name: float(p) for name, p in zip(predictor.class_names, row)})
        for box, row in zip(boxes, probs)
    ]
    timings = {
        "detect": (detected - start) * 1e3,
        "preprocess": (prepared - detected) * 1e3,
        "classify": (classified - prepared) * 1e3,
    }
    return Analysis(faces, batch, timings)
