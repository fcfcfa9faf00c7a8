"""Fast unit tests of the demo's parts (no Gradio server, no trained model)."""

from __future__ import annotations

import base64
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from emokit.demo.engine import no_runs_message, run_choices
from emokit.demo.saliency import occlusion_map
from emokit.demo.stream import StreamState
from emokit.faces import crop_face, face_region
from emokit.inference.annotate import EMOTION_COLORS, draw_faces, draw_text, overlay_heat
from emokit.inference.frames import Face, ScaledDetector
from emokit.inference.tracking import FaceTrack, TrackingDetector
from emokit.records import Box

PROBS = {"angry": 0.1, "happy": 0.7, "sad": 0.2}


def test_draw_faces_boxes_each_face_in_its_emotion_colour():
    image = np.zeros((200, 300, 3), np.uint8)
    out = draw_faces(image, [Face(Box(100, 80, 60, 60), PROBS)])
    assert out.shape == image.shape
    edge = out[110, 99:102].astype(int)  # the box's left edge (anti-aliased)
    assert np.abs(edge - EMOTION_COLORS["happy"]).sum(axis=1).min() < 80
    assert image.sum() == 0  # the input is not drawn on


def test_draw_faces_accepts_gray_and_draw_text_labels():
    out = draw_faces(np.zeros((100, 100), np.uint8), [Face(Box(0, 0, 50, 50), PROBS)], numbered=True)
    assert out.shape == (100, 100, 3)
    assert draw_text(np.zeros((50, 200, 3), np.uint8), "no face found").any()


def test_overlay_heat_tints_only_the_region():
    image = np.full((100, 100, 3), 128, np.uint8)
    heat = np.zeros((10, 10), np.float32)
    heat[4:6, 4:6] = 1.0
    out = overlay_heat(image, heat, Box(20, 20, 40, 40))
    assert (out[:20] == 128).all() and (out[70:] == 128).all()
    assert not (out[38:42, 38:42] == 128).all()


def test_face_region_matches_crop_face():
    image = np.zeros((120, 160), np.uint8)
    for box in (Box(10, 10, 50, 50), Box(0, 0, 30, 40), Box(140, 100, 20, 20)):
        region = face_region(box, image.shape, 0.2)
        assert crop_face(image, box, 0.2).shape == (region.h, region.w)


def test_occlusion_map_finds_the_decisive_region():
    # A fake classifier: class 0's probability is the brightness of the top-left quarter.
    def classify(batch: np.ndarray) -> np.ndarray:
        p = batch[:, :24, :24, 0].mean(axis=(1, 2)) / 255.0
        return np.stack([p, 1 - p], axis=1)

    face = np.full((48, 48, 1), 50, np.uint8)
    face[:24, :24] = 250  # hiding any of it (grey = the face's mean) lowers class 0
    heat = occlusion_map(classify, face, 0)
    assert heat.shape == (48, 48) and heat.max() == pytest.approx(1.0)
    assert heat[:20, :20].mean() > 0.3 and heat[30:, 30:].max() == 0.0


def test_scaled_detector_scales_boxes_back():
    class Fake:
        def __init__(self):
            self.seen = None

        def detect(self, image):
            self.seen = image.shape
            return [Box(10, 20, 30, 30)]

    fake = Fake()
    boxes = ScaledDetector(fake, 320).detect(np.zeros((480, 640, 3), np.uint8))
    assert fake.seen[:2] == (240, 320)
    assert boxes == [Box(20, 40, 60, 60)]
    assert ScaledDetector(fake, 320).detect(np.zeros((100, 200, 3), np.uint8)) == [Box(10, 20, 30, 30)]


class SpyHaar:
    """The real Haar detector, recording the size of every image it is asked to search."""

    def __init__(self):
        from emokit.registry import build_registry

        self.haar = build_registry().get("face_detector", "haar").create()
        self.searched = []

    def detect(self, image):
        self.searched.append(image.shape[:2])
        return self.haar.detect(image)


def webcam_frame(shift=0):
    """The astronaut photograph's face in a 320x240 frame (the stream's detection size), moved ``shift`` px right."""
    data = pytest.importorskip("skimage.data")

    frame = np.full((240, 320, 3), 90, np.uint8)
    frame[:, 40 + shift:280 + shift] = cv2.resize(data.astronaut(), (240, 240), interpolation=cv2.INTER_AREA)
    return frame


def test_tracking_detector_searches_near_the_face_then_refreshes():
    spy, track = SpyHaar(), FaceTrack()
    tracker = TrackingDetector(spy, track, refresh=4)
    first = tracker.detect(webcam_frame())
    assert len(first) == 1 and spy.searched[-1] == (240, 320)  # no track yet: the whole frame
    moved = tracker.detect(webcam_frame(shift=6))
    assert len(moved) == 1 and spy.searched[-1][0] < 120 and spy.searched[-1][1] < 120  # only around the face
    assert abs((moved[0].x - first[0].x) - 6) <= 4 and abs(moved[0].y - first[0].y) <= 4  # and it followed it
    for _ in range(2):
        tracker.detect(webcam_frame(shift=6))
    assert spy.searched[-1][0] < 120 and track.since_full == 3
    tracker.detect(webcam_frame(shift=6))
    assert spy.searched[-1] == (240, 320) and track.since_full == 0  # one full search every 4 frames


def test_tracking_detector_searches_everywhere_when_the_face_is_lost():
    spy, track = SpyHaar(), FaceTrack()
    tracker = TrackingDetector(spy, track)
    assert len(tracker.detect(webcam_frame())) == 1
    assert tracker.detect(np.full((240, 320, 3), 90, np.uint8)) == []
    assert spy.searched[-2][0] < 120 and spy.searched[-1] == (240, 320)  # the region, then the whole frame
    assert track.boxes == []


class BrightSquares:
    """A real but trivial detector: every bright blob is a face (detection on any crop, no offsets known)."""

    def detect(self, image):
        gray = image if image.ndim == 2 else image[:, :, 0]
        count, _, stats, _ = cv2.connectedComponentsWithStats((gray > 128).astype(np.uint8))
        return [Box(int(x), int(y), int(w), int(h)) for x, y, w, h, _ in stats[1:count]]


def squares(*boxes, shape=(240, 320)):
    frame = np.zeros((*shape, 3), np.uint8)
    for x, y, w, h in boxes:
        frame[y:y + h, x:x + w] = 255
    return frame


def test_tracking_keeps_two_close_faces_apart():
    tracker = TrackingDetector(BrightSquares(), FaceTrack())
    first = tracker.detect(squares((100, 100, 40, 40), (150, 100, 40, 40)))
    assert len(first) == 2
    moved = tracker.detect(squares((103, 101, 40, 40), (153, 101, 40, 40)))
    assert sorted((b.x, b.y) for b in moved) == [(103, 101), (153, 101)]  # each face once, none lost


def test_tracking_restarts_on_a_new_frame_size():
    track = FaceTrack()
    tracker = TrackingDetector(BrightSquares(), track)
    assert len(tracker.detect(squares((250, 180, 40, 40)))) == 1
    small = tracker.detect(squares((10, 10, 30, 30), shape=(120, 160)))  # the old box lies outside this frame
    assert small == [Box(10, 10, 30, 30)] and track.since_full == 0 and track.shape == (120, 160, 3)


def test_stream_state_counts_frames_per_second():
    state = StreamState()
    for i in range(11):
        fps = state.tick(i * 0.1)
    assert state.frames == 11 and fps == pytest.approx(10.0)
    assert state.tick(100.0) == 0.0  # a pause restarts the average


def test_run_choices_newest_first_and_no_runs_message(tmp_path):
    assert run_choices(tmp_path).names == [] and run_choices(tmp_path).selected is None
    assert "emokit train" in no_runs_message(tmp_path)
    for name in ("old", "new"):
        (tmp_path / name).mkdir()
        for file in ("config.json", "spec.json", "model.weights.h5"):  # a run that can answer
            (tmp_path / name / file).write_text("{}")
        time.sleep(0.02)
    choice = run_choices(tmp_path)
    assert choice.names == ["new", "old"] and choice.selected == "new"
    assert run_choices(tmp_path, "old").selected == "old"


def test_inline_image_sends_a_data_url_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    from emokit.demo.components import inline_image

    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :32] = 255
    component = inline_image(label="out")
    assert component.get_block_name() == "image"
    data = component.postprocess(frame)
    assert data.path is None and data.url.startswith("data:image/jpeg;base64,")
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(data.url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == frame.shape
    assert list(tmp_path.rglob("*")) == []


def test_private_upload_hands_over_the_bytes_and_leaves_deleting_to_the_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    from gradio.data_classes import ImageData

    from emokit.demo.components import private_upload

    upload = tmp_path / "gradio" / "abc123" / "me.jpg"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"user")
    component = private_upload(type="filepath")
    # Identical uploads share this file, and the page previews it: deleting it here failed both.
    assert component.preprocess(ImageData(path=str(upload))) == b"user" and upload.exists()
    upload.unlink()  # the sweep came first: a clear message, not a traceback
    with pytest.raises(Exception, match="upload it again"):
        component.preprocess(ImageData(path=str(upload)))
    assert component.preprocess(None) is None
    assert component.get_config()["sources"] == ["upload", "webcam", "clipboard"]  # a stock gr.Image config


def test_cli_imports_no_gradio_and_demo_help_lists_flags():
    code = "import sys, emokit.cli, emokit.demo; print('gradio' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
    from typer.testing import CliRunner

    from emokit.cli import app

    result = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--detector", "--share"):
        assert flag in result.output
    assert "127.0.0.1" in result.output


def test_launch_defaults_are_safe():
    import inspect

    from emokit.demo.launch import launch_demo

    defaults = {k: p.default for k, p in inspect.signature(launch_demo).parameters.items()}
    assert defaults["host"] == "127.0.0.1" and defaults["share"] is False and defaults["max_file_size"]
