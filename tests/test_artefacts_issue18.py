"""Issue #18: every artefact a run serves from is checked on load (weights for Keras, the LiteRT export,
and ``--runtime auto``); a damaged weights file is one line naming it, never a traceback."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest

from cli_utils import emokit_process, run_cli
from emokit.artefacts import ARTEFACTS_FILE, record_artefact, recorded_digests, verify_artefact
from emokit.errors import EmokitError
from emokit.inference.runtimes import open_runtime
from emokit.registry import build_registry
from emokit.runs import Run

CAN_EXPORT = all(importlib.util.find_spec(m) for m in ("tensorflow", "ai_edge_litert"))


def one_line_naming(exc: pytest.ExceptionInfo, name: str) -> None:
    message = str(exc.value)
    assert name in message and "\n" not in message, message


def test_a_changed_file_is_refused_naming_it_and_an_unrecorded_one_is_accepted(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    run, weights = Run(tmp_path), tmp_path / "model.weights.h5"
    weights.write_bytes(b"trained")
    verify_artefact(run, weights)  # a run from before digests were recorded: accepted
    record_artefact(run, weights)
    verify_artefact(run, weights)
    assert set(recorded_digests(run)) == {"model.weights.h5"}
    weights.write_bytes(b"swapped")
    with pytest.raises(EmokitError) as exc:
        verify_artefact(run, weights)
    one_line_naming(exc, "model.weights.h5")


@pytest.fixture
def run_copy(trained_run, tmp_path):
    run = Run(shutil.copytree(trained_run.path, tmp_path / trained_run.name, ignore=shutil.ignore_patterns("checkpoint")))
    record_artefact(run, run.weights_file)  # as the trainer does after each best-weights write
    return run


def swap_weights(run: Run) -> None:
    """Replace the run's weights by valid weights of the same model with other values."""
    predictor = open_runtime(run, build_registry(), "keras", backend="torch")
    for variable in predictor.model.weights:
        variable.assign(np.asarray(variable.numpy()) + 0.5)
    other = run.path.parent / "other.weights.h5"
    predictor.model.save_weights(other)
    shutil.copyfile(other, run.weights_file)


@pytest.mark.slow
def test_swapped_weights_are_refused_by_keras_and_auto(run_copy):
    registry = build_registry()
    swap_weights(run_copy)
    for runtime in ("keras", "auto"):
        with pytest.raises(EmokitError) as exc:
            open_runtime(run_copy, registry, runtime, "torch" if runtime == "keras" else None)
        one_line_naming(exc, "model.weights.h5")


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-shape"])
def test_a_damaged_weights_file_is_one_line_naming_it(run_copy, damage, capsys):
    (run_copy.path / ARTEFACTS_FILE).unlink()  # a run from before digests: only loading can tell
    weights = run_copy.weights_file
    if damage == "garbage":
        weights.write_bytes(b"this is not an HDF5 file" * 100)
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    else:
        import keras

        other = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Conv2D(3, 3), keras.layers.Flatten(), keras.layers.Dense(7)])
        other.save_weights(run_copy.path / "other.weights.h5")
        shutil.copyfile(run_copy.path / "other.weights.h5", weights)
    with pytest.raises(EmokitError) as exc:
        open_runtime(run_copy, build_registry(), "keras", backend="torch")
    one_line_naming(exc, "model.weights.h5")
    face = run_copy.path / "face.png"
    import cv2

    cv2.imwrite(str(face), np.full((96, 96), 128, np.uint8))
    code, _, err = run_cli(capsys, "predict", str(run_copy.path), str(face), "--backend", "torch")
    assert code == 2 and "model.weights.h5" in err and "Traceback" not in err, err


@pytest.mark.slow
@pytest.mark.skipif(not CAN_EXPORT, reason="exporting needs TensorFlow and ai-edge-litert")
def test_a_swapped_litert_export_is_refused_by_litert_and_auto(run_copy):
    LITERT_FILE = "model.tflite"
    done = emokit_process("export", str(run_copy.path))
    assert done.returncode == 0, done.stderr
    assert LITERT_FILE in recorded_digests(run_copy)
    open_runtime(run_copy, build_registry(), "litert")  # the untouched export loads
    model = run_copy.path / LITERT_FILE
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF  # one byte: a valid-looking file that is not the one exported
    model.write_bytes(bytes(data))
    registry = build_registry()
    for runtime in ("litert", "auto"):  # auto must not serve it, nor fall back to Keras without a word
        with pytest.raises(EmokitError) as exc:
            open_runtime(run_copy, registry, runtime)
        one_line_naming(exc, LITERT_FILE)
