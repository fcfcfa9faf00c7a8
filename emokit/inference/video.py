"""Videos through the frame pipeline: every face followed with a stable id, its emotion per frame,
and three files written: an annotated video, a per-frame CSV and a timeline PNG.

Any container and codec the installed OpenCV reads (its pip wheels bundle FFmpeg: MP4, AVI, MOV,
MKV, WebM...). Per frame: the faces are searched for around where they were (the demo's webcam
tracking, :class:`~emokit.inference.tracking.TrackingDetector`, on a copy shrunk to
:data:`VIDEO_DETECT_WIDTH`), each box gets its face's id (:class:`~emokit.inference.tracking.FaceIds`),
the frame's faces are classified in one runtime call and, optionally, each face's probabilities are
smoothed over its last N answers (:class:`~emokit.inference.tracking.ProbabilitySmoother`). With
``every`` N, only every Nth frame is analysed and the frames between carry its answer (boxes
included), which divides the analysis cost by about N (decoding and writing stay per frame).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emokit.atomic import atomic_path
from emokit.errors import EmokitError
from emokit.inference.frames import Face, FramePipeline
from emokit.inference.image_files import check_input_file
from emokit.inference.tracking import ID_MAX_SHIFT, FaceIds, FaceTrack, ProbabilitySmoother

#: Suffixes taken for videos without opening them (a file with another suffix is a video if OpenCV opens it).
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
                            ".3gp", ".ogv", ".ts", ".mts", ".m2ts", ".mjpeg", ".y4m"})
#: Frames are searched for faces at this width (boxes scaled back): the demo's webcam setting.
VIDEO_DETECT_WIDTH = 320
#: Detector options for video frames where the detector declares them and the user set none: the
#: demo's webcam setting (a coarser Haar pyramid halves detection time; video faces are large).
VIDEO_DETECTOR_OPTIONS = {"scale_factor": 1.2}
#: The farthest (in face sizes) a face may move between two analysed frames and keep its id, with ``every`` > 1.
MAX_SHIFT_SKIPPING = 1.5
#: Used when a file does not say its frame rate.
FALLBACK_FPS = 25.0
#: The annotated video's codec per container: MPEG-4 Part 2 in MP4 (desktop players; every OpenCV build
#: writes it), VP8 in WebM (plays in browsers, e.g. a demo tab; the pip wheels' FFmpeg has no H.264 encoder).
ANNOTATED_CODECS = {".mp4": "mp4v", ".webm": "VP80"}


@dataclass(frozen=True)
class VideoSettings:
    """How a video is analysed: ``every`` Nth frame (the others carry its answer), and each face's
    probabilities smoothed over its last ``smooth`` answers (0: none) by ``smooth_kind`` (``mean`` or ``ema``)."""

    every: int = 1
    smooth: int = 0
    smooth_kind: str = "mean"

    def check(self) -> VideoSettings:
        """This, or a one-line error naming the bad option."""
        if self.every < 1:
            raise EmokitError(f"--every must be 1 (every frame) or more, got {self.every}.")
        ProbabilitySmoother(self.smooth, self.smooth_kind)  # checks window and kind
        return self


@dataclass(frozen=True)
class TrackedFace:
    """One face in one frame: its id (stable while it is tracked), and whether this frame was analysed
    (``False``: the answer is carried from the last analysed frame, ``--every``)."""

    face_id: int
    face: Face
    analysed: bool = True


@dataclass
class VideoResult:
    """What :func:`analyze_video` wrote and found."""

    source: Path
    annotated: Path
    csv: Path
    timeline: Path
    frames: int
    fps: float
    size: tuple[int, int]
    #: Each face id and the frames it was seen in.
    face_frames: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        """Frames processed per second of wall time (decode, analysis, drawing and writing together)."""
        return self.frames / self.seconds if self.seconds else 0.0

    def faces_text(self) -> str:
        """Each face id with the frames it was seen in (``#1 (40 frames), #2 (25 frames)``), or ``no face found``."""
        return ", ".join(f"#{i} ({n} frames)" for i, n in sorted(self.face_frames.items())) or "no face found"


def check_video_file(path: Path) -> Path:
    """``path`` if it is an existing, non-empty, readable file, else a one-line error (no model needed)."""
    return check_input_file(path, "Video", "a video")


def opens_as_video(path: Path) -> bool:
    """Whether OpenCV opens ``path`` as a video and decodes a first frame from it."""
    capture = cv2.VideoCapture(str(path))
    try:
        return bool(capture.isOpened() and capture.read()[0])
    finally:
        capture.release()


class VideoReader:
    """The frames of a video file as uint8 RGB arrays, with its frame rate, size and (when the file
    says) frame count. Fails in one line when OpenCV cannot open it or decode its first frame."""

    def __init__(self, path: Path) -> None:
        self.path = check_video_file(Path(path))
        self._capture = cv2.VideoCapture(str(path))
        ok, first = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok or first is None:
            self._capture.release()
            raise EmokitError(f"{path}: not a video OpenCV can read (damaged, not a video, or a codec its FFmpeg lacks).")
        self._first: np.ndarray | None = first
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else FALLBACK_FPS
        self.size = (first.shape[1], first.shape[0])  # width, height
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        #: The frame count the container states (0 or a guess for some formats: for progress only).
        self.frame_count = max(count, 0)

    def frames(self) -> Iterator[np.ndarray]:
        """Each frame, RGB, until the video ends (or its data stops decoding)."""
        frame, self._first = self._first, None
        while frame is not None:
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            ok, frame = self._capture.read()
            if not ok:
                frame = None

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def track_faces(pipeline: FramePipeline, frames: Iterable[np.ndarray], settings: VideoSettings = VideoSettings()
                ) -> Iterator[tuple[np.ndarray, list[TrackedFace]]]:
    """Each frame with its faces and their ids (largest first), analysed or carried (see the module docstring)."""
    settings.check()
    # Faces move ``every`` frames' distance between two analysed frames (a bound keeps distinct faces apart).
    track, ids = FaceTrack(), FaceIds(max_shift=min(ID_MAX_SHIFT * settings.every, MAX_SHIFT_SKIPPING))
    smoother = ProbabilitySmoother(settings.smooth, settings.smooth_kind)
    names = pipeline.class_names
    last: list[TrackedFace] = []
    for index, frame in enumerate(frames):
        if index % settings.every:
            yield frame, [TrackedFace(f.face_id, f.face, analysed=False) for f in last]
            continue
        boxes = pipeline.detect(frame, track)
        ended = len(ids.ended)
        face_ids = ids.update(boxes)
        _, batch = pipeline.crop(frame, boxes)
        probabilities = pipeline.classify(batch)
        last = []
        for face_id, box, row in zip(face_ids, boxes, probabilities):
            smoothed = smoother.update(face_id, row)
            last.append(TrackedFace(face_id, Face(box, {name: float(p) for name, p in zip(names, smoothed)})))
        smoother.forget(ids.ended[ended:])  # the faces that left this frame
        yield frame, last


def frame_columns(class_names: Sequence[str]) -> list[str]:
    """The per-frame CSV's header."""
    return ["frame", "time_s", "face_id", "x", "y", "w", "h", "score", *class_names, "emotion", "analysed"]


def frame_row(frame: int, time_s: float, tracked: TrackedFace, class_names: Sequence[str]) -> list[object]:
    """One face in one frame as a CSV row (probabilities to 4 places, time to the millisecond)."""
    box, face = tracked.face.box, tracked.face
    return [frame, f"{time_s:.3f}", tracked.face_id, box.x, box.y, box.w, box.h, f"{float(face.score):.4f}",
            *(f"{face.probabilities[name]:.4f}" for name in class_names), face.emotion, int(tracked.analysed)]


def output_paths(video: Path, out_dir: Path, container: str = ".mp4") -> tuple[Path, Path, Path]:
    """Where a video's annotated copy, CSV and timeline go in ``out_dir``: named after the video."""
    stem = video.stem
    return out_dir / f"{stem}.annotated{container}", out_dir / f"{stem}.csv", out_dir / f"{stem}.timeline.png"


def analyze_video(pipeline: FramePipeline, path: Path, out_dir: Path, settings: VideoSettings = VideoSettings(), *,
                  container: str = ".mp4", started: Callable[[VideoReader], None] | None = None,
                  advance: Callable[[int], None] | None = None) -> VideoResult:
    """Analyse the video at ``path`` and write its annotated copy, per-frame CSV and timeline PNG into
    ``out_dir`` (see :func:`output_paths`); each file is written whole or not at all. ``container``: the
    annotated video's, a key of :data:`ANNOTATED_CODECS` (``.webm`` for browsers).

    ``started(reader)`` is called once the video is open (its frame count sizes a progress bar);
    ``advance(1)`` after each frame. A video OpenCV cannot read is a one-line :class:`EmokitError`.
    """
    from emokit.inference.annotate import draw_faces  # noqa: PLC0415
    from emokit.inference.timeline import plot_timeline  # noqa: PLC0415

    settings.check()
    if container not in ANNOTATED_CODECS:
        raise EmokitError(f"Unknown video container '{container}'. Available: {', '.join(ANNOTATED_CODECS)}.")
    begin = time.perf_counter()
    annotated_path, csv_path, timeline_path = output_paths(Path(path), Path(out_dir), container)
    fourcc = ANNOTATED_CODECS[container]
    names = list(pipeline.class_names)
    series: dict[int, list[tuple[float, str, float]]] = {}
    frames = 0
    with VideoReader(Path(path)) as reader:
        if started is not None:
            started(reader)
        with atomic_path(annotated_path) as video_tmp, atomic_path(csv_path) as csv_tmp, \
                open(csv_tmp, "w", newline="") as table:
            writer = cv2.VideoWriter(str(video_tmp), cv2.VideoWriter_fourcc(*fourcc), reader.fps, reader.size)
            if not writer.isOpened():
                raise EmokitError(f"{annotated_path}: this OpenCV cannot write {fourcc} video.")
            rows = csv.writer(table)
            rows.writerow(frame_columns(names))
            try:
                for index, (frame, tracked) in enumerate(track_faces(pipeline, reader.frames(), settings)):
                    time_s = index / reader.fps
                    for face in tracked:
                        rows.writerow(frame_row(index, time_s, face, names))
                        series.setdefault(face.face_id, []).append((time_s, face.face.emotion, face.face.probabilities[face.face.emotion]))
                    drawn = draw_faces(frame, [t.face for t in tracked], prefixes=[f"#{t.face_id}" for t in tracked]) if tracked else frame
                    writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
                    frames += 1
                    if advance is not None:
                        advance(1)
            finally:
                writer.release()
    plot_timeline(series, names, timeline_path, title=Path(path).name)
    return VideoResult(Path(path), annotated_path, csv_path, timeline_path, frames, reader.fps, reader.size,
                       {face_id: len(points) for face_id, points in series.items()}, time.perf_counter() - begin)
