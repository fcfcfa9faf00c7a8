"""The webcam stream handler: one frame in, the annotated frame, the main face's probabilities and fps out.

It is a plain callable (Gradio calls it once per frame) so tests can drive it directly: the
``gradio_client`` package cannot call streaming endpoints.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from emokit.demo.engine import STREAM_DETECT_WIDTH
from emokit.errors import EmokitError
from emokit.inference.frames import DetectorPool, FramePipeline, runtime_label
from emokit.inference.runtime import Runtime
from emokit.inference.tracking import FaceTrack


#: A gap this long between frames (seconds) starts a new stream: fps and face tracking restart.
NEW_STREAM_GAP_S = 2.0


@dataclass
class StreamState:
    """Per-browser-session stream bookkeeping (kept in a ``gr.State``): frame count, recent frame times
    and the tracked faces."""

    frames: int = 0
    times: deque = field(default_factory=lambda: deque(maxlen=30))
    track: FaceTrack = field(default_factory=FaceTrack)

    def tick(self, now: float) -> float:
        """Count a frame answered at ``now`` (seconds); returns the frames per second over the last 30."""
        self.frames += 1
        if self.times and now - self.times[-1] > NEW_STREAM_GAP_S:
            self.times.clear()  # a new stream after a pause: do not average over the gap
        self.times.append(now)
        if len(self.times) < 2:
            return 0.0
        span = self.times[-1] - self.times[0]
        return (len(self.times) - 1) / span if span > 0 else 0.0


@dataclass(frozen=True)
class FrameResult:
    """What one frame gives back: the annotated frame, the main face's probabilities (or None) and a status line."""

    annotated: np.ndarray | None
    probabilities: dict[str, float] | None
    status: str
    timings: dict[str, float]


class StreamHandler:
    """Analyses webcam frames with the model of the chosen run.

    ``load`` maps a run name to its loaded :class:`~emokit.inference.runtime.Runtime` (loaded once,
    see :class:`~emokit.demo.engine.ModelCache`). Each frame goes through the frame pipeline with the
    session's face track; detection runs on frames shrunk to ``detect_width`` pixels wide.
    """

    def __init__(self, load: Callable[[str], Runtime], detectors: DetectorPool, detect_width: int | None = STREAM_DETECT_WIDTH) -> None:
        self.load = load
        self.detectors = detectors
        self.detect_width = detect_width

    def frame(self, image: np.ndarray | None, run_name: str | None, state: StreamState) -> FrameResult:
        """Analyse one frame; errors become a status line (raising would end the stream)."""
        if image is None:
            return FrameResult(None, None, "Waiting for the camera...", {})
        if not run_name:
            return FrameResult(image, None, "No run selected: train one first (see the Runs tab).", {})
        start = time.perf_counter()
        if state.times and start - state.times[-1] > NEW_STREAM_GAP_S:
            state.track = FaceTrack()  # a new stream after a pause: search the whole first frame
        try:
            runtime = self.load(run_name)
            pipeline = FramePipeline(runtime, self.detectors, detect_width=self.detect_width)
            result = pipeline.analyze(image, track=state.track, annotate=True)
        except EmokitError as exc:
            return FrameResult(image, None, f"Error: {exc}", {})
        done = time.perf_counter()
        annotated = result.annotated
        timings = {**result.timings, "total": (done - start) * 1e3}
        fps = state.tick(done)
        faces = len(result.faces)
        status = (
            f"{fps:.1f} fps shown · frame {state.frames} · {faces} face{'s' if faces != 1 else ''} · "
            f"{timings['total']:.1f} ms per frame on the server ({runtime_label(runtime)})"
        )
        main = result.faces[0].probabilities if result.faces else None
        return FrameResult(annotated, main, status, timings)

    def __call__(self, image: np.ndarray | None, run_name: str | None, state: StreamState | None):
        """Gradio's stream callback: (annotated frame, probabilities, status, state)."""
        state = state if isinstance(state, StreamState) else StreamState()
        result = self.frame(image, run_name, state)
        return result.annotated, result.probabilities, result.status, state
