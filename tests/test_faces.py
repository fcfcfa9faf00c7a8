"""Faces in real photographs shipped with scikit-image: one face, none, several; the Haar plugin's scores."""

from __future__ import annotations

import numpy as np
import pytest

from emokit.errors import EmokitError
from emokit.faces import crop_face
from emokit.inference.frames import FramePipeline
from emokit.inference.preprocessing import Preprocessing
from emokit.records import Box
from emokit.registry import build_registry

skimage_data = pytest.importorskip("skimage.data")


class Uniform:
    """A stand-in runtime (the pipeline's detection and cropping are under test here, not a model)."""

    label = "uniform"
    class_names = ("happy", "sad")

    def __init__(self, size=(48, 48), channels=1):
        self.preprocessing = Preprocessing(size, channels)
        self.seen = []

    def probabilities(self, images):
        self.seen.append(images.shape)
        return np.full((len(images), 2), 0.5, np.float32)


@pytest.fixture(scope="module")
def detector():
    return build_registry().get("face_detector", "haar").create()


def test_astronaut_has_one_face_where_her_face_is_with_a_high_score(detector):
    photo = skimage_data.astronaut()  # 512x512 RGB; Eileen Collins' face is around (225, 115)
    analysis = FramePipeline(Uniform(), detector).analyze(photo)
    assert len(analysis.faces) == 1
    box = analysis.faces[0].box
    assert box.x < 225 < box.x + box.w and box.y < 115 < box.y + box.h
    assert 60 <= box.w <= 160
    assert 0.9 < box.score <= 1.0  # a clear frontal face
    assert analysis.batch.shape == (1, 48, 48, 1) and analysis.batch.dtype == np.uint8


def test_two_astronauts_side_by_side_give_two_faces_largest_first(detector):
    photo = skimage_data.astronaut()
    runtime = Uniform((64, 64), 3)
    analysis = FramePipeline(runtime, detector).analyze(np.concatenate([photo, photo], axis=1))
    boxes = [f.box for f in analysis.faces]
    assert len(boxes) == 2 and analysis.batch.shape == (2, 64, 64, 3)
    assert runtime.seen == [(2, 64, 64, 3)]  # one model call for the frame's faces
    assert sorted(b.x < 512 for b in boxes) == [False, True]  # one in each half
    assert boxes[0].w * boxes[0].h >= boxes[1].w * boxes[1].h


def test_false_hits_score_lower_than_faces():
    # min_neighbors=1 lets the cascade's weak hits through (a shoulder beside the astronaut's face).
    loose = build_registry().get("face_detector", "haar").create(min_neighbors=1)
    boxes = loose.detect(skimage_data.astronaut())
    assert len(boxes) >= 2 and all(0.0 <= b.score <= 1.0 for b in boxes)
    face = next(b for b in boxes if b.x < 225 < b.x + b.w and b.y < 115 < b.y + b.h)
    assert all(b.score < face.score for b in boxes if b is not face)


@pytest.mark.parametrize("photo", ["coffee", "gradient"])
def test_a_photo_without_faces_gives_an_empty_batch_and_no_model_call(detector, photo):
    image = skimage_data.coffee() if photo == "coffee" else np.tile(np.arange(256, dtype=np.uint8), (200, 1))
    runtime = Uniform()
    analysis = FramePipeline(runtime, detector).analyze(image)
    assert analysis.faces == [] and analysis.batch.shape == (0, 48, 48, 1) and runtime.seen == []


def test_crop_face_adds_a_margin_clamped_to_the_image():
    image = np.arange(100 * 80, dtype=np.int64).reshape(100, 80).astype(np.uint8)
    assert crop_face(image, Box(20, 30, 40, 50), margin=0.2).shape == (70, 56)
    assert crop_face(image, Box(0, 0, 40, 50), margin=0.5).shape == (75, 60)  # clamped at the top-left
    assert crop_face(image, Box(60, 80, 40, 40), margin=0.0).shape == (20, 20)  # clamped at the bottom-right
    with pytest.raises(EmokitError, match="outside"):
        crop_face(image, Box(200, 200, 10, 10))


def test_detector_options_are_checked():
    record = build_registry().get("face_detector", "haar")
    assert set(record.options) == {"scale_factor", "min_neighbors", "min_size"}
    with pytest.raises(EmokitError, match="scale_factor must be above 1.0"):
        record.create(scale_factor=1.0)
