"""`emokit export --format onnx|litert`: each export is checked against the Keras model (parity recorded and
printed), and every runtime (keras, litert, onnx, auto) gives the same top-1 on the same faces in
`emokit evaluate` and `emokit predict`; stale and swapped exports are refused."""

from __future__ import annotations

import importlib.util
import json
import shutil

import cv2
import numpy as np
import pytest

from cli_utils import emokit_process, run_cli
from emokit.artefacts import record_artefact
from emokit.errors import EmokitError
from emokit.inference.export_records import EXPORT_INFO_FILE, export_records
from emokit.inference.runtimes import open_runtime
from emokit.registry import build_registry
from emokit.runs import Run

# find_spec, not importorskip: importing TensorFlow here would fix this process's Keras backend.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("tensorflow", "ai_edge_litert", "onnxruntime", "onnx", "torch")),
        reason="LiteRT converts through TensorFlow and runs on ai-edge-litert; ONNX exports on torch (onnx) and runs on "
        "onnxruntime: pip install 'emokit[all]'",
    ),
]
RUNTIMES = ("keras", "litert", "onnx")


def copy_run(trained_run: Run, folder) -> Run:
    return Run(shutil.copytree(trained_run.path, folder / trained_run.name, ignore=shutil.ignore_patterns("checkpoint")))


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory) -> tuple[Run, dict[str, str]]:
    """A copy of the trained run exported to ONNX and LiteRT by the CLI; the CLI's output per format."""
    run = copy_run(trained_run, tmp_path_factory.mktemp("exported"))
    record_artefact(run, run.weights_file)  # as the trainer does after each best-weights write
    outputs = {}
    for format in ("onnx", "litert"):
        done = emokit_process("export", str(run.path), "--format", format)
        assert done.returncode == 0, done.stderr
        outputs[format] = done.stdout
    return run, outputs


@pytest.fixture
def run_copy(exported, tmp_path) -> Run:
    """A private copy of the exported run, for tests that change it."""
    return copy_run(exported[0], tmp_path)


def faces(n: int = 8) -> np.ndarray:
    from emokit_plugins.synthetic_faces import draw_face

    rng = np.random.default_rng(3)
    return np.stack([draw_face(rng, i % 7, (48, 48), 1) for i in range(n)])


def test_each_export_records_and_prints_its_parity(exported):
    run, outputs = exported
    records = export_records(run)
    for format, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
        record = records[format]
        assert record["file"] == f"model{suffix}" and (run.path / record["file"]).is_file()
        parity = record["parity"]
        assert parity["images"] == "synthetic" and parity["faces"] == 256
        assert parity["top1_agreement"] >= 0.99 and parity["max_abs_diff"] < 1e-3 and record["latency_ms"] > 0
        assert f"model{suffix}" in outputs[format]
        assert f"top-1 agreement {parity['top1_agreement']:.1%}" in outputs[format]
        assert "max probability difference" in outputs[format]


def test_every_runtime_gives_the_same_top1_on_the_same_faces(exported, tmp_path, capsys):
    run, _ = exported
    registry = build_registry()
    answers = {name: open_runtime(run, registry, name).probabilities(faces()) for name in RUNTIMES}
    for name in ("litert", "onnx"):
        np.testing.assert_array_equal(answers[name].argmax(1), answers["keras"].argmax(1))
        np.testing.assert_allclose(answers[name], answers["keras"], atol=1e-4)
    assert open_runtime(run, registry, "auto").label in ("litert", "onnx")  # a current export: auto serves it
    assert open_runtime(run, registry, "onnx").probabilities(np.zeros((0, 48, 48, 1), np.uint8)).shape == (0, 7)

    images = []
    for i, face in enumerate(faces(4)):
        images.append(tmp_path / f"face{i}.png")
        cv2.imwrite(str(images[-1]), face)
    accuracy, emotions = {}, {}
    for name in (*RUNTIMES, "auto"):
        code, out, err = run_cli(capsys, "evaluate", str(run.path), "--runtime", name, "--json")
        assert code == 0, err
        accuracy[name] = json.loads(out)["test"]["accuracy"]
        code, out, err = run_cli(capsys, "predict", str(run.path), *map(str, images), "--no-detect", "--json",
                                 "--runtime", name)
        assert code == 0, err
        emotions[name] = [result["faces"][0]["emotion"] for result in json.loads(out)]
    assert len(set(accuracy.values())) == 1, accuracy
    assert all(found == emotions["keras"] for found in emotions.values()), emotions


def test_the_demo_serves_every_runtime_with_the_same_top1(exported):
    """The demo's photo path (its model cache, then the frame pipeline) on keras, litert and onnx."""
    from emokit.demo.engine import ModelCache
    from emokit.inference.frames import FramePipeline, detector_pool

    run, _ = exported
    registry = build_registry()
    emotions = {}
    for name in RUNTIMES:
        runtime = ModelCache(registry, runtime=name).get(run)
        assert runtime.label.startswith(name)
        pipeline = FramePipeline(runtime, detector_pool(registry, None))  # the faces are already crops
        emotions[name] = [pipeline.analyze(face[:, :, 0]).faces[0].emotion for face in faces(8)]
    assert emotions["litert"] == emotions["keras"] == emotions["onnx"], emotions


def test_a_bare_onnx_file_answers_like_its_run(exported, tmp_path):
    run, _ = exported
    bare = tmp_path / "elsewhere" / "emotions.onnx"  # copied out of its run folder: it carries its spec
    bare.parent.mkdir()
    shutil.copyfile(run.path / "model.onnx", bare)
    registry = build_registry()
    alone = open_runtime(bare, registry)
    assert alone.label == "onnx" and alone.run is None and alone.class_names == run.spec().class_names
    assert alone.preprocessing == open_runtime(run, registry, "onnx").preprocessing
    np.testing.assert_allclose(alone.probabilities(faces()), open_runtime(run, registry, "keras").probabilities(faces()),
                               atol=1e-4)


def test_evaluate_with_tta_on_an_export_is_labelled(exported, capsys):
    run, _ = exported
    code, out, err = run_cli(capsys, "evaluate", str(run.path), "--runtime", "onnx", "--tta", "flip")
    assert code == 0, err
    assert "onnx+flip" in out and (run.path / "evaluations" / "onnx+flip" / "confusion_test.png").exists()


def test_an_export_of_older_weights_is_refused_and_auto_serves_keras(run_copy):
    registry = build_registry()
    keras_runtime = open_runtime(run_copy, registry, "keras")
    for variable in keras_runtime.model.weights:  # the run trains further: other weights of the same model
        variable.assign(np.asarray(variable.numpy()) + 0.01)
    keras_runtime.model.save_weights(run_copy.path / "newer.weights.h5")
    shutil.copyfile(run_copy.path / "newer.weights.h5", run_copy.weights_file)
    record_artefact(run_copy, run_copy.weights_file)
    for name, title in (("onnx", "ONNX"), ("litert", "LiteRT")):
        with pytest.raises(EmokitError, match=f"The {title} export of run .* not made from its current weights"):
            open_runtime(run_copy, registry, name)
    assert open_runtime(run_copy, registry, "auto").label.startswith("keras+")


def test_a_swapped_onnx_export_is_refused_by_onnx_and_auto(run_copy):
    model = run_copy.path / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF  # one byte: a valid-looking file that is not the one exported
    model.write_bytes(bytes(data))
    registry = build_registry()
    (run_copy.path / "model.tflite").unlink()  # so auto would pick the ONNX export
    for runtime in ("onnx", "auto"):  # auto must not serve it, nor fall back to Keras without a word
        with pytest.raises(EmokitError) as exc:
            open_runtime(run_copy, registry, runtime)
        assert "model.onnx" in str(exc.value) and "\n" not in str(exc.value)


def test_int8_litert_export_is_smaller_and_close(run_copy):
    registry = build_registry()
    float_size = (run_copy.path / "model.tflite").stat().st_size
    float_probs = open_runtime(run_copy, registry, "litert").probabilities(faces())
    done = emokit_process("export", str(run_copy.path), "--int8")
    assert done.returncode == 0, done.stderr
    assert (run_copy.path / "model.tflite").stat().st_size < float_size / 2
    quantized = open_runtime(run_copy, registry, "litert")
    assert quantized.label == "litert-int8" and export_records(run_copy)["onnx"]  # the ONNX record is kept
    assert (quantized.probabilities(faces()).argmax(1) == float_probs.argmax(1)).mean() >= 0.8
    assert json.loads((run_copy.path / EXPORT_INFO_FILE).read_text())["exports"]["litert"]["quantized"] is True


def test_int8_is_refused_for_onnx_and_a_run_without_weights_says_so(run_copy, tmp_path):
    done = emokit_process("export", str(run_copy.path), "--format", "onnx", "--int8")
    assert done.returncode == 2 and "--int8 applies to exporters with a quantize option" in done.stderr
    empty = tmp_path / "empty-run"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    done = emokit_process("export", str(empty), "--format", "onnx")
    assert done.returncode == 2 and "Error:" in done.stderr and "Traceback" not in done.stderr
