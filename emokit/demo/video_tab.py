"""The demo's Video tab handler: an uploaded video in; its annotated copy, per-frame CSV and timeline PNG out.

It runs :func:`emokit.inference.video.analyze_video`, the code behind ``emokit predict MODEL clip.mp4
--out DIR`` (face tracking with a stable id per face, ``every`` Nth frame, optional smoothing), with
the CLI's video detection settings. The annotated copy is WebM (VP8): browsers play it, and the
FFmpeg inside OpenCV's wheels has no H.264 encoder.

Nothing stays behind: the three files are written into a temporary folder that is deleted as soon as
Gradio has copied them into its own cache (the handler is a generator, and Gradio resumes it only
after sending its answer), where the demo's ``delete_cache`` sweep deletes them like any upload.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import gradio as gr
import numpy as np

from emokit.errors import EmokitError
from emokit.inference.frames import DetectorPool, FramePipeline
from emokit.inference.runtime import Runtime
from emokit.inference.video import VIDEO_DETECT_WIDTH, VideoReader, VideoResult, VideoSettings, analyze_video

#: What the tab's outputs are: annotated video, timeline image, files to download, status Markdown.
VideoAnswer = tuple[str | None, np.ndarray | None, list[str] | None, str]


def video_summary(result: VideoResult) -> str:
    """The status line of an analysed video: frames, speed and each face id with the frames it was seen in."""
    return (f"**{result.source.name}**: {result.frames} frames at {result.fps:.1f} fps ({result.size[0]}x{result.size[1]}), "
            f"analysed at {result.frames_per_second:.1f} frames/s. Faces: {result.faces_text()}.")


def read_rgb(path: Path) -> np.ndarray:
    """A PNG written by the analysis, as RGB (shown inline, so Gradio keeps no copy of it)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise EmokitError(f"{path}: could not read the timeline image back.")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class FrameProgress:
    """Gradio's progress bar fed by :func:`analyze_video`'s ``started``/``advance`` callbacks."""

    #: Frames between two updates: a bar needs a few updates a second, not one per frame.
    EVERY = 10

    def __init__(self, progress: gr.Progress) -> None:
        self.progress = progress
        self.total: int | None = None
        self.done = 0

    def started(self, reader: VideoReader) -> None:
        self.total = reader.frame_count or None  # some containers do not say

    def advance(self, frames: int) -> None:
        self.done += frames
        if self.done % self.EVERY == 0:
            self.progress((self.done, self.total), unit="frames")


class VideoAnalyzer:
    """The Video tab's handler (:meth:`analyze`): ``load(run_name)`` gives the chosen model's runtime;
    ``detectors`` finds faces (the video detection settings)."""

    def __init__(self, load: Callable[[str], Runtime], detectors: DetectorPool,
                 detect_width: int | None = VIDEO_DETECT_WIDTH) -> None:
        self.load = load
        self.detectors = detectors
        self.detect_width = detect_width

    def analyze(self, path: str | None, run_name: str | None, every: float = 1, smooth: float = 0,
                progress: gr.Progress = gr.Progress()) -> Iterator[VideoAnswer]:
        """Analyse the video at ``path`` with the model ``run_name``: yields (annotated WebM, timeline,
        [annotated, CSV, timeline], status) once, then deletes its own copies of the files."""
        if not path:
            yield None, None, None, "Upload a video with faces in it."
            return
        try:
            settings = VideoSettings(every=1 if every is None else int(every), smooth=int(smooth or 0)).check()
            if not run_name:
                raise EmokitError("No trained run to use: train one first (see the Runs tab).")
            pipeline = FramePipeline(self.load(run_name), self.detectors, detect_width=self.detect_width)
        except EmokitError as exc:
            gr.Warning(str(exc))
            yield None, None, None, f"**Cannot analyse:** {exc}"
            return
        counter = FrameProgress(progress)
        with tempfile.TemporaryDirectory(prefix="emokit-video-") as folder:
            try:
                result = analyze_video(pipeline, Path(path), Path(folder), settings, container=".webm",
                                       started=counter.started, advance=counter.advance)
            except EmokitError as exc:
                gr.Warning(str(exc))
                yield None, None, None, f"**Cannot analyse this file:** {exc}"
                return
            files = [str(result.annotated), str(result.csv), str(result.timeline)]
            yield str(result.annotated), read_rgb(result.timeline), files, video_summary(result)
