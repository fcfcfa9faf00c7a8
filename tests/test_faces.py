"""Faces in real photographs shipped with scikit-image: one face, none, several."""

from __future__ import annotations

import numpy as np
import pytest

from emokit.errors import EmokitError
from emokit.faces import crop_face, faces_to_batch
from emokit.records import Box
from emokit.registry import build_registry

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def detector():
    return build_registry().get("face_detector", "haar").create()


def test_astronaut_has_one_face_where_her_face_is(detector):
    photo = skimage_data.astronaut()  # 512x512 RGB; Eileen Collins' face is around (225, 115)
    boxes, batch = faces_to_batch(photo, detector, size=(48, 48), channels=1)
    assert len(boxes) == 1
    box = boxes[0]
    assert box.x < 225 < box.x + box.w and box.y < 115 < box.y + box.h
    assert 60 <= box.w <= 160
    assert batch.shape == (1, 48, 48, 1) and batch.dtype == np.uint8


def test_two_astronauts_side_by_side_give_two_faces_largest_first(detector):
    photo = skimage_data.astronaut()
    boxes, batch = faces_to_batch(np.concatenate([photo, photo], axis=1), detector, size=(64, 64), channels=3)
    assert len(boxes) == 2 and batch.shape == (2, 64, 64, 3)
    assert sorted(b.x < 512 for b in boxes) == [False, True]  # one in each half
    assert boxes[0].w * boxes[0].h >= boxes[1].w * boxes[1].h


@pytest.mark.parametrize("photo", ["coffee", "gradient"])
def test_a_photo_without_faces_gives_an_empty_batch(detector, photo):
    image = skimage_data.coffee() if photo == "coffee" else np.tile(np.arange(256, dtype=np.uint8), (200, 1))
    boxes, batch = faces_to_batch(image, detector, size=(48, 48), channels=1)
    assert boxes == [] and batch.shape == (0, 48, 48, 1)


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
