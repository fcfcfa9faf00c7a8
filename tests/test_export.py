"""`emokit export`: a run's model as LiteRT, served by the lean interpreter with the same answers as Keras."""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pytest

from cli_utils import emokit_process, run_cli
from emokit.errors import EmokitError
from emokit.export import EXPORT_INFO_FILE, LITERT_FILE, LitePredictor
from emokit.predictor import Predictor, open_predictor
from emokit.registry import build_registry
from emokit.runs import Run

# find_spec, not importorskip: importing TensorFlow here would fix this process's Keras backend.
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("tensorflow", "ai_edge_litert", "torch")),
    reason="exporting converts through TensorFlow; the export runs on ai-edge-litert (both in the [all] extra); "
    "the reference run is torch-trained",
)


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A private copy of the trained run: an export changes what `--runtime auto` serves."""
    return Run(shutil.copytree(trained_run.path, tmp_path / trained_run.name, ignore=shutil.ignore_patterns("checkpoint")))


def faces(n: int = 6) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)


def test_export_answers_like_keras_and_auto_serves_it(run_copy, capsys):
    done = emokit_process("export", str(run_copy.path))
    assert done.returncode == 0, done.stderr
    assert "Exported" in done.stdout and (run_copy.path / LITERT_FILE).exists()
    registry = build_registry()
    keras_probs = Predictor(run_copy, registry, "torch").probabilities(faces())
    lite = open_predictor(run_copy, registry, runtime="auto")
    assert isinstance(lite, LitePredictor) and lite.label == "litert"
    assert isinstance(open_predictor(run_copy, registry, "torch", runtime="auto"), Predictor)  # a backend asked for: Keras
    np.testing.assert_allclose(lite.probabilities(faces()), keras_probs, atol=1e-4)
    assert lite.probabilities(faces(1)).shape == (1, 7) and lite.probabilities(faces(0)).shape == (0, 7)

    code, out, err = run_cli(capsys, "evaluate", str(run_copy.path), "--runtime", "litert", "--json")
    code_k, out_k, _ = run_cli(capsys, "evaluate", str(run_copy.path), "--backend", "torch", "--json")
    assert code == code_k == 0, err
    assert json.loads(out)["test"]["accuracy"] == pytest.approx(json.loads(out_k)["test"]["accuracy"], abs=0.005)


def test_int8_export_is_smaller_and_close(run_copy):
    assert emokit_process("export", str(run_copy.path)).returncode == 0
    float_size = (run_copy.path / LITERT_FILE).stat().st_size
    float_probs = LitePredictor(run_copy).probabilities(faces())
    done = emokit_process("export", str(run_copy.path), "--int8")
    assert done.returncode == 0, done.stderr
    assert (run_copy.path / LITERT_FILE).stat().st_size < float_size / 2
    quantized = LitePredictor(run_copy)
    assert quantized.label == "litert-int8"
    assert (quantized.probabilities(faces()).argmax(1) == float_probs.argmax(1)).mean() >= 0.8


def test_stale_or_missing_export_is_refused(run_copy):
    registry = build_registry()
    with pytest.raises(EmokitError, match="emokit export"):
        LitePredictor(run_copy)  # never exported
    assert isinstance(open_predictor(run_copy, registry, "torch", runtime="auto"), Predictor)
    (run_copy.path / LITERT_FILE).write_bytes(b"not a model")
    (run_copy.path / EXPORT_INFO_FILE).write_text(json.dumps({"format": "litert", "weights_sha256": "0" * 64}))
    with pytest.raises(EmokitError, match="not made from its current weights"):
        LitePredictor(run_copy)
    assert isinstance(open_predictor(run_copy, registry, "torch", runtime="auto"), Predictor)
    with pytest.raises(EmokitError, match="Unknown runtime 'fast'. Available: keras, litert, auto"):
        open_predictor(run_copy, registry, runtime="fast")


def test_export_of_a_run_without_weights_says_so(tmp_path):
    run = tmp_path / "empty-run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    done = emokit_process("export", str(run))
    assert done.returncode == 2 and "Error:" in done.stderr and "Traceback" not in done.stderr


def test_evaluate_tta_is_labelled(run_copy, capsys):
    code, out, err = run_cli(capsys, "evaluate", str(run_copy.path), "--backend", "torch", "--tta", "flip")
    assert code == 0, err
    assert "torch+flip" in out and (run_copy.path / "evaluations" / "torch+flip" / "confusion_test.png").exists()
