"""The one frame pipeline (emokit.inference.frames) on real photos and the real Haar plugin, with a
stand-in runtime: what each stage hands the next, the run's margin and input, tracking, annotation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emokit.errors import EmokitError
from emokit.faces import face_region
from emokit.inference.frames import Face, FramePipeline, WholeImage, detector_pool
from emokit.inference.preprocessing import Preprocessing
from emokit.inference.tracking import FaceTrack
from emokit.preprocess import to_model_input
from emokit.records import Box
from emokit.registry import build_registry

skimage_data = pytest.importorskip("skimage.data")


class Recording:
    """A stand-in runtime that records each batch and answers "happy" more the brighter the face."""

    label = "recording"
    class_names = ("happy", "sad")

    def __init__(self, preprocessing: Preprocessing) -> None:
        self.preprocessing = preprocessing
        self.batches: list[np.ndarray] = []

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        self.batches.append(images.copy())
        happy = images.reshape(len(images), -1).mean(axis=1) / 255.0
        return np.stack([happy, 1 - happy], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def webcam_frame(shift: int = 0) -> np.ndarray:
    """A 640x480 frame with the astronaut's face, moved ``shift`` px right."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[:, 80 + shift:560 + shift] = cv2.resize(skimage_data.astronaut(), (480, 480), interpolation=cv2.INTER_AREA)
    return frame


def test_the_run_s_margin_input_size_and_channels_shape_the_crop(registry):
    photo = skimage_data.astronaut()
    runtime = Recording(Preprocessing((40, 32), 3, margin=0.5))
    analysis = FramePipeline(runtime, detector_pool(registry, "haar")).analyze(photo)
    (face,) = analysis.faces
    region = face_region(face.box, photo.shape, 0.5)
    assert analysis.regions == [region]
    expected = to_model_input(photo[region.y:region.y + region.h, region.x:region.x + region.w], (40, 32), 3)
    assert np.array_equal(runtime.batches[0][0], expected)  # exactly the training preprocessing of that crop
    assert face.probabilities["happy"] == pytest.approx(expected.mean() / 255, abs=1e-5)
    assert set(analysis.timings) == {"detect", "preprocess", "classify"}


def test_bytes_are_decoded_timed_and_bad_ones_named(registry):
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    pipeline = FramePipeline(Recording(Preprocessing()), detector_pool(registry, "haar"))
    analysis = pipeline.analyze(jpeg.tobytes(), source="upload.jpg")
    assert len(analysis.faces) == 1 and "decode" in analysis.timings and analysis.image.shape == (512, 512, 3)
    with pytest.raises(EmokitError, match="upload.txt: not an image"):
        pipeline.analyze(b"hello", source="upload.txt")


@pytest.mark.parametrize("image, words", [
    (np.zeros((0, 0, 3), np.uint8), "empty"),
    (np.zeros((10, 10, 3), np.float32), "uint8"),
    (np.zeros((10, 10, 5), np.uint8), "shape"),
])
def test_bad_arrays_are_one_line_errors(image, words):
    with pytest.raises(EmokitError, match=words) as caught:
        FramePipeline(Recording(Preprocessing()), WholeImage()).analyze(image)
    assert "\n" not in str(caught.value)


def test_without_a_detector_the_whole_image_is_the_face():
    runtime = Recording(Preprocessing(margin=0.2))
    analysis = FramePipeline(runtime, None).analyze(np.full((60, 50), 200, np.uint8))
    assert [f.box for f in analysis.faces] == [Box(0, 0, 50, 60)] and analysis.faces[0].score == 1.0
    assert runtime.batches[0].shape == (1, 48, 48, 1)


def test_a_stream_tracks_the_face_on_a_shrunk_frame(registry):
    from emokit.demo.engine import STREAM_DETECTOR_OPTIONS

    pipeline = FramePipeline(Recording(Preprocessing()), detector_pool(registry, "haar", STREAM_DETECTOR_OPTIONS),
                             detect_width=320)
    track = FaceTrack()
    first = pipeline.analyze(webcam_frame(), track=track).faces
    moved = pipeline.analyze(webcam_frame(shift=12), track=track).faces
    assert len(first) == len(moved) == 1 and track.since_full == 1  # the second frame was searched near the face
    assert abs(moved[0].box.x - first[0].box.x - 12) <= 8  # in full-resolution coordinates
    assert 0.5 < moved[0].score <= 1.0  # the tracked face keeps the detector's score
    assert track.shape == (240, 320, 3)  # tracking happens on the shrunk frame


def test_annotation_is_the_last_stage_and_draws_on_a_copy(registry):
    frame = webcam_frame()
    pipeline = FramePipeline(Recording(Preprocessing()), detector_pool(registry, "haar"))
    analysis = pipeline.analyze(frame, annotate=True)
    assert analysis.annotated.shape == frame.shape and not np.array_equal(analysis.annotated, frame)
    assert "annotate" in analysis.timings and frame[0, 0, 0] == 90
    empty = pipeline.analyze(np.full((100, 100, 3), 90, np.uint8), annotate=True)
    assert empty.faces == [] and empty.annotated.any()  # "no face found" written on it


def test_face_derives_its_emotion_and_offers_the_fer_shape():
    face = Face(Box(1, 2, 3, 4, 0.875), {"happy": 0.25, "sad": 0.75})
    assert face.emotion == "sad" and face.score == 0.875
    assert face.to_dict() == {"box": [1, 2, 3, 4], "score": 0.875, "emotions": {"happy": 0.25, "sad": 0.75},
                              "dominant_emotion": "sad"}
