"""The bundled model (hook ``emokit_models``): found by short name and used by default everywhere a model is
named, its SHA-256 checked, its LiteRT path free of Keras and every backend, its figures shown.

The real ``fer2013`` file is added by the lead; until then these tests run on a stand-in exported the same
way (tests/standin_model.py). The tests of the built-in record itself start to run once its file is there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest

from emokit.errors import EmokitError
from emokit.inference.bundled import described_source, sidecar_path
from emokit.inference.source import default_model, model_source, names_model, split_model_argument
from emokit.records import ModelRecord
from emokit.registry import build_registry, record_problems
from plugin_utils import PLUGINS, run_emokit
from standin_model import NAME, install_standin, make_standin, standin_environment, standin_registry

REPO = Path(__file__).resolve().parents[1]
BUILT_IN_FILE = REPO / "plugins" / "models" / "fer2013.tflite"
#: Modules that must not load on the bundled model's path: Keras and every backend library.
HEAVY = ("keras", "torch", "tensorflow", "jax")


# ---- fast: the record, names and defaults (no model is opened) ----------------------------------------

def built_in_registry():
    import emokit_plugins.models

    return build_registry([("models", emokit_plugins.models)], use_entry_points=False)


def test_the_built_in_record_names_package_data_run_by_litert():
    from emokit_plugins import models

    if models.SHA256 is None:  # nothing is offered before the trained model is bundled
        assert models.emokit_models() == [] and not BUILT_IN_FILE.exists()
        pytest.skip("the trained fer2013 model is not added yet")
    registry = built_in_registry()
    record = registry.get("model", "fer2013")
    assert record_problems(record, "model") == []
    assert record.runtime == "litert" and record.default and record.card == "docs/model-card.md"
    assert Path(record.file) == BUILT_IN_FILE  # importlib.resources: the package's own folder, in a wheel too
    assert re.fullmatch(r"[0-9a-f]{64}", record.sha256)


def test_pyproject_ships_the_models_folder_and_registers_the_plugin():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["emokit"]["models"] == "emokit_plugins.models"
    assert "models/*.tflite" in project["tool"]["setuptools"]["package-data"]["emokit_plugins"]
    assert any(d.startswith("ai-edge-litert") for d in project["project"]["dependencies"])  # the base install runs it
    assert project["project"]["optional-dependencies"]["litert"] == ["ai-edge-litert>=1.2"]  # kept as an alias


def test_a_path_is_a_record_field_type_and_a_wrong_one_is_named():
    good = ModelRecord("m", "A model", file=Path("m.tflite"), sha256="0" * 64, runtime="litert")
    assert record_problems(good, "model") == []
    bad = ModelRecord("m", "A model", file=42, sha256="0" * 64, runtime="litert")
    assert record_problems(bad, "model") == ["ModelRecord 'm': field 'file' is not callable (got int)."]


def fake_run(root: Path, name: str, dataset: str) -> Path:
    """A run folder that can answer as far as choosing is concerned (spec, weights file, training data)."""
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "spec.json").write_text("{}")
    (run / "model.weights.h5").write_bytes(b"")
    (run / "metadata.json").write_text(json.dumps({"dataset": dataset}))
    return run


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    """A registry whose default bundled model is a file that exists (its content is never read here)."""
    folder = tmp_path / "standin"
    folder.mkdir()
    (folder / f"{NAME}.tflite").write_bytes(b"stand-in")
    (folder / "record.json").write_text(json.dumps({"sha256": "0" * 64}))
    return standin_registry(folder, monkeypatch)


def test_names_model_tells_models_from_images(bundled, tmp_path):
    root = tmp_path / "runs"
    run = fake_run(root, "real-run", "fer2013")
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"x")
    exported = tmp_path / "model.onnx"
    exported.write_bytes(b"x")
    assert names_model(NAME, bundled, root) and names_model("latest", bundled, root)
    assert names_model(str(run), bundled, root) and names_model("real-run", bundled, root)
    assert names_model(str(exported), bundled, root)
    assert not names_model(str(photo), bundled, root) and not names_model(str(tmp_path), bundled, root)
    assert not names_model("no-such-thing", bundled, root)


def test_split_model_argument_makes_the_model_optional(bundled, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"x")
    assert split_model_argument([str(photo)], bundled) == (None, [str(photo)])
    assert split_model_argument([NAME, str(photo)], bundled) == (NAME, [str(photo)])
    # A mistyped run name still names a model, so the error says the run is not found, not that it is no image.
    assert split_model_argument(["my-run", str(photo)], bundled) == ("my-run", [str(photo)])
    assert split_model_argument(["missing.png", str(photo)], bundled) == (None, ["missing.png", str(photo)])


def test_the_default_is_the_bundled_model_and_the_demo_prefers_a_real_run(bundled, tmp_path):
    root = tmp_path / "runs"
    fake_run(root, "a-synthetic", "synthetic")
    assert default_model(bundled, root).name == NAME
    assert default_model(bundled, root, real_runs=True).name == NAME  # a synthetic run never wins over it
    fake_run(root, "b-real", "fer2013")
    assert default_model(bundled, root, real_runs=True).name == "b-real"
    assert default_model(bundled, root).name == NAME  # predict and the API: the bundled model


def test_without_a_bundled_model_the_default_is_a_one_line_error(tmp_path, monkeypatch):
    registry = standin_registry(tmp_path / "empty", monkeypatch)  # the stand-in's folder is missing: no record
    with pytest.raises(EmokitError, match="no bundled model is installed") as exc:
        default_model(registry, tmp_path)
    assert "\n" not in str(exc.value)


def test_an_unknown_name_lists_the_bundled_models(bundled, tmp_path):
    with pytest.raises(EmokitError, match=f"Run 'fer2031' not found.*Bundled models: {NAME}"):
        model_source("fer2031", tmp_path, bundled)


# ---- slow: the stand-in exported and bundled like the real model --------------------------------------

@pytest.fixture(scope="module")
def standin(trained_run, tmp_path_factory) -> Path:
    return make_standin(trained_run, tmp_path_factory.mktemp("standin"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    paths = {"astronaut": folder / "astronaut.png"}
    cv2.imwrite(str(paths["astronaut"]), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return paths


@pytest.mark.slow
def test_the_bundled_model_loads_by_name_and_by_default(standin, trained_run, photos, monkeypatch):
    import emokit
    from emokit.inference.runtimes import open_runtime

    registry = standin_registry(standin, monkeypatch)
    by_default, by_name = emokit.load(registry=registry), emokit.load(NAME, registry=registry)
    assert by_default.label == by_name.label == "litert-int8"
    assert by_default.runtime.bundled.name == NAME and by_default.class_names == trained_run.spec().class_names
    faces = by_default.analyze(photos["astronaut"])
    assert len(faces) == 1 and faces[0].emotion in by_default.class_names
    # The bundled file is the run's export: same answers as the run served by LiteRT.
    run = standin / "run" / trained_run.name
    crops = np.random.default_rng(0).integers(0, 256, (8, 48, 48, 1), dtype=np.uint8)
    np.testing.assert_array_equal(by_name.runtime.probabilities(crops), open_runtime(run, registry, "litert").probabilities(crops))


@pytest.mark.slow
def test_a_changed_file_or_missing_description_is_refused_in_one_line(standin, tmp_path, monkeypatch):
    import emokit

    copy = Path(shutil.copytree(standin, tmp_path / "copy", ignore=shutil.ignore_patterns("run")))
    registry = standin_registry(copy, monkeypatch)
    model = copy / f"{NAME}.tflite"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(EmokitError, match=f"Bundled model '{NAME}'.*SHA-256.*changed or damaged") as exc:
        emokit.load(NAME, registry=registry)
    assert "\n" not in str(exc.value)
    shutil.copyfile(standin / f"{NAME}.tflite", model)
    sidecar_path(model).unlink()
    with pytest.raises(EmokitError, match="has no description standin.tflite.json"):
        emokit.load(NAME, registry=registry)


@pytest.mark.slow
def test_a_tflite_file_with_its_description_answers_outside_its_run(standin, trained_run):
    from emokit.inference.runtimes import open_runtime

    source = described_source(standin / f"{NAME}.tflite")
    assert source.spec.class_names == trained_run.spec().class_names and source.about["quantized"] is True
    assert source.about["run"] == trained_run.name and source.about["parity"]["top1_agreement"] > 0.9
    assert open_runtime(standin / f"{NAME}.tflite", build_registry()).label == "litert-int8"


@pytest.mark.slow
def test_the_bundled_path_imports_no_keras_nor_any_backend(standin, photos):
    """The Python API on the bundled model, in a fresh process: neither Keras nor a backend library loads."""
    code = (
        "import sys, emokit\n"
        f"sys.path.insert(0, {str(PLUGINS)!r})\n"
        "import plugin_standin_model\n"
        "from emokit.registry import build_registry\n"
        f"registry = build_registry([('standin', plugin_standin_model)], blocked=('models',))\n"
        f"faces = emokit.load(registry=registry).analyze({str(photos['astronaut'])!r})\n"
        f"print(len(faces), sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **standin_environment(standin)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "[]"], done.stdout


@pytest.mark.slow
def test_emokit_evaluate_and_predict_take_the_bundled_name(standin, photos, tmp_path):
    site = tmp_path / "site"
    install_standin(site)
    env = standin_environment(standin)
    done = run_emokit(site, "evaluate", NAME, "--data", "synthetic", "--json", "--runs", str(tmp_path / "runs"), **env)
    assert done.returncode == 0, done.stderr
    assert 0 <= json.loads(done.stdout)["test"]["accuracy"] <= 1
    assert (tmp_path / "runs" / "evaluations" / NAME / "litert-int8" / "confusion_test.png").is_file()
    done = run_emokit(site, "evaluate", NAME, "--runs", str(tmp_path / "runs"), **env)
    assert done.returncode == 2 and "is not a run, so it has no dataset of its own" in done.stderr
    done = run_emokit(site, "plugins", NAME, **env)
    assert done.returncode == 0 and "model" in done.stdout and NAME in done.stdout


@pytest.mark.slow
def test_emokit_predict_on_the_bundled_file_imports_no_keras_nor_any_backend(standin, photos):
    """The real CLI, in a fresh process with ``-X importtime``: the LiteRT path loads no Keras and no backend."""
    command = [sys.executable, "-X", "importtime", "-c", "from emokit.cli import main; main()", "predict",
               str(standin / f"{NAME}.tflite"), str(photos["astronaut"]), "--runtime", "litert", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = json.loads(done.stdout)
    assert len(result["faces"]) == 1
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "ai_edge_litert" in imported and not imported & set(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.slow
def test_emokit_predict_with_no_model_uses_the_bundled_one(standin, photos, tmp_path):
    site = tmp_path / "site"
    install_standin(site)
    done = run_emokit(site, "predict", str(photos["astronaut"]), "--json", **standin_environment(standin))
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert len(result["faces"]) == 1
    assert "XNNPACK" not in done.stderr, done.stderr  # LiteRT's native announcement is not the user's business


@pytest.mark.skipif(not BUILT_IN_FILE.is_file(), reason="the trained fer2013 model is not added yet")
def test_the_real_bundled_model_says_the_astronaut_is_happy(photos):
    import emokit

    analyzer = emokit.load("fer2013", registry=build_registry())  # every built-in plugin: the model and Haar
    assert analyzer.label == "litert-int8"
    faces = analyzer.analyze(photos["astronaut"])
    assert [face.emotion for face in faces] == ["happy"]
    assert BUILT_IN_FILE.stat().st_size <= 5_000_000
