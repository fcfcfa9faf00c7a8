"""Issue #18: face-detector options from the command line, ``--detector NAME[=key=value,...]``.

The same text form as ``--aug``, parsed and checked by one helper (:func:`emokit.faces.parse_detector`,
:func:`emokit.faces.open_detector`) for ``emokit predict``, ``emokit demo`` and the frame benchmark:
the options reach the detector, and a bad one is a one-line error before Keras or Gradio is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from emokit import faces
from emokit.demo.engine import STREAM_DETECTOR_OPTIONS
from emokit.errors import EmokitError
from emokit.inference.frames import detector_pool
from emokit_plugins.haar import HaarFaceDetector
from emokit.registry import build_registry

HEAVY_MODULES = ("keras", "torch", "tensorflow", "jax", "gradio")


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def test_options_given_after_the_name_reach_the_detector(registry):
    detector = faces.open_detector(registry, "haar=min_neighbors=9,scale_factor=1.2")
    assert isinstance(detector, HaarFaceDetector)
    assert (detector.min_neighbors, detector.scale_factor, detector.min_size) == (9, 1.2, 30)


def test_a_name_alone_gives_the_detector_its_own_defaults(registry):
    detector = faces.open_detector(registry, "haar")
    assert (detector.min_neighbors, detector.scale_factor, detector.min_size) == (5, 1.1, 30)


@pytest.mark.parametrize("text, words", [
    ("haar=scale_factor=0.5", ["Face detector 'haar'", "scale_factor", "0.5", "> 1"]),
    ("haar=min_neighbors=2.5", ["min_neighbors", "2.5", "integer"]),
    ("haar=neighbours=3", ["no option 'neighbours'", "min_neighbors", "min_size", "scale_factor"]),
    ("hair", ["hair", "haar"]),
    ("=scale_factor=1.2", ["no name"]),
])
def test_bad_detector_text_is_one_line_naming_what_is_wrong(registry, text, words):
    with pytest.raises(EmokitError) as caught:
        faces.parse_detector(registry, text)
    message = str(caught.value)
    assert "\n" not in message
    assert all(word in message for word in words), message


def test_demo_pools_take_the_users_options_over_the_stream_preference(registry):
    photo = detector_pool(registry, "haar=min_neighbors=9").get()
    stream = detector_pool(registry, "haar=min_neighbors=9", STREAM_DETECTOR_OPTIONS).get()
    chosen = detector_pool(registry, "haar=scale_factor=1.3", STREAM_DETECTOR_OPTIONS).get()
    assert (photo.min_neighbors, photo.scale_factor) == (9, 1.1)
    assert (stream.min_neighbors, stream.scale_factor) == (9, STREAM_DETECTOR_OPTIONS["scale_factor"])
    assert chosen.scale_factor == 1.3


# -- the command line: one red line, before any heavy import --------------------------------------------------------

EARLY_SCRIPT = """
import contextlib, io, json, sys
from emokit.cli import main
err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    try:
        main(json.loads(sys.argv[1]))
        code = 0
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "err": err.getvalue(), "heavy": [m for m in %r if m in sys.modules]}))
""" % (HEAVY_MODULES,)


def _early(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, "-c", EARLY_SCRIPT, json.dumps(args)], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "COLUMNS": "300"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def answering_run(tmp_path_factory) -> tuple[Path, Path]:
    """A run folder that passes the "can it answer" check (placeholder files, never loaded) and a photo."""
    root = tmp_path_factory.mktemp("detector")
    run = root / "runs" / "placeholder"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "spec.json").write_text("{}")
    (run / "model.weights.h5").write_bytes(b"placeholder: never loaded by these tests")
    photo = root / "photo.png"
    cv2.imwrite(str(photo), np.full((64, 64), 128, np.uint8))
    return run, photo


@pytest.mark.parametrize("text, words", [
    ("haar=scale_factor=0.5", ["scale_factor", "> 1"]),
    ("nope", ["Unknown face detector 'nope'", "haar"]),
])
def test_predict_refuses_a_bad_detector_in_one_line_before_keras(answering_run, text, words):
    run, photo = answering_run
    outcome = _early(["predict", str(run), str(photo), "--detector", text])
    message = " ".join(outcome["err"].split())
    assert outcome["code"] == 2, outcome
    assert len(outcome["err"].strip().splitlines()) == 1, outcome
    assert all(word in message for word in words), outcome
    assert outcome["heavy"] == [], f"{outcome['heavy']} imported before the error"


def test_demo_refuses_a_bad_detector_option_in_one_line_before_gradio(tmp_path):
    outcome = _early(["demo", "--runs", str(tmp_path), "--detector", "haar=min_size=0"])
    message = " ".join(outcome["err"].split())
    assert outcome["code"] == 2, outcome
    assert len(outcome["err"].strip().splitlines()) == 1, outcome
    assert "min_size" in message and ">= 1" in message, outcome
    assert outcome["heavy"] == [], f"{outcome['heavy']} imported before the error"


@pytest.mark.slow
def test_predict_passes_the_options_to_the_detector(capsys, trained_run, tmp_path):
    """End to end: the same face is found with the defaults, and not with min_size larger than the photo."""
    from cli_utils import run_cli

    skimage_data = pytest.importorskip("skimage.data")
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    found = {}
    for text in ("haar", f"haar=min_size={10_000}"):
        code, out, err = run_cli(capsys, "predict", str(trained_run.path), str(photo), "--detector", text, "--json")
        assert code == 0, err
        found[text] = len(json.loads(out)[0]["faces"])
    assert found["haar"] >= 1 and found["haar=min_size=10000"] == 0, found
