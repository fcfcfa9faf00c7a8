"""The demo's Video tab handler on the test video (tests/video_utils.py): the annotated WebM, the timeline and
the three files come back, each face keeps one id, and the handler's own copies are gone once it is resumed
after answering (Gradio resumes it after it has copied the files into its cache).

Real OpenCV, the real Haar plugin, real files, and the brightness stand-in runtime (the model does not
matter here; the browser test in test_demo_browser.py drives the tab against a trained run).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from brightness_runtime import Brightness
from emokit.inference.frames import detector_pool
from emokit.inference.video import VIDEO_DETECTOR_OPTIONS
from emokit.registry import build_registry
from video_utils import FRAMES, write_video

pytest.importorskip("skimage.data")
pytest.importorskip("gradio")


@pytest.fixture(scope="module")
def analyzer():
    from emokit.demo.video_tab import VideoAnalyzer

    runtime = Brightness()
    return VideoAnalyzer(lambda name: runtime, detector_pool(build_registry(), "haar", VIDEO_DETECTOR_OPTIONS))


def _no_progress(*args, **kwargs) -> None:
    """Outside a Gradio request there is no progress bar to update."""


def test_a_video_gives_annotated_webm_timeline_and_files_and_leaves_nothing(analyzer, tmp_path):
    clip = write_video(tmp_path / "clip.mp4", frames=FRAMES)
    answers = analyzer.analyze(str(clip), "any", 1, 3, progress=_no_progress)
    video, timeline, files, status = next(answers)
    paths = [Path(p) for p in files]
    assert video.endswith("clip.annotated.webm") and Path(video) == paths[0]
    assert [p.name for p in paths] == ["clip.annotated.webm", "clip.csv", "clip.timeline.png"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)  # there while Gradio copies them
    assert timeline.ndim == 3 and timeline.shape[2] == 3
    assert f"**clip.mp4**: {FRAMES} frames at 10.0 fps (640x480)" in status and "#1 (" in status and "#2 (" in status
    with paths[1].open() as table:
        ids = {row["face_id"] for row in csv.DictReader(table)}
    assert ids == {"1", "2"}
    with pytest.raises(StopIteration):
        next(answers)  # Gradio resumes the handler after answering: its copies go
    assert not any(p.exists() for p in paths) and not paths[0].parent.exists()


def test_a_corrupt_video_a_bad_setting_and_no_video_are_one_line_each(analyzer, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    *_, status = next(analyzer.analyze(str(broken), "any", progress=_no_progress))
    assert status.startswith("**Cannot analyse this file:**") and "broken.mp4: not a video OpenCV can read" in status
    *_, status = next(analyzer.analyze(str(broken), "any", 0, progress=_no_progress))
    assert status == "**Cannot analyse:** --every must be 1 (every frame) or more, got 0."
    assert next(analyzer.analyze(None, "any", progress=_no_progress)) == (None, None, None, "Upload a video with faces in it.")
