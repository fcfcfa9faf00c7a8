"""Real training on generated data: learning, resume after an interrupt, reproducibility, cross-backend evaluation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from rich.console import Console

from cli_utils import emokit_process, run_cli
from conftest import TINY_TRAINING
from emokit.registry import build_registry
from emokit.runs import Run, find_run
from emokit.training.config import TrainConfig
from emokit.training.trainer import train

pytestmark = pytest.mark.slow
TINY_FLAGS = ["--arch", "small_cnn", "--set", "width=0.5", "--set", "dense_units=128", "--seed", "1"]


def test_run_directory_holds_everything(trained_run: Run):
    files = {p.name for p in trained_run.path.iterdir()}
    assert {"config.json", "spec.json", "preprocessing.json", "model.weights.h5", "history.csv", "metrics.json", "metadata.json", "status.json"} <= files
    assert {"curves.png", "confusion_val.png", "confusion_test.png"} <= {p.name for p in trained_run.plots_dir.iterdir()}
    assert trained_run.status()["state"] == "completed"
    history = trained_run.history()
    assert len(history["val_accuracy"]) == TINY_TRAINING["epochs"] and "learning_rate" in history
    metrics = trained_run.metrics()["splits"]["test"]
    assert set(metrics) >= {"accuracy", "loss", "macro_f1", "per_class", "confusion_matrix"}
    assert len(metrics["confusion_matrix"]) == 7 and sum(map(sum, metrics["confusion_matrix"])) == metrics["images"]
    meta = trained_run.metadata()
    assert meta["backend"] == "torch" and meta["dataset"] == "synthetic" and meta["seed"] == 1
    assert meta["dataset_fingerprint"] and meta["keras"] and meta["plugins"]["architecture"]["plugin"] == "architectures"
    assert meta["environment"] == {}  # the settings the backend applies (none on torch): they change speed
    # Nothing half-written is left behind.
    assert not list(trained_run.path.rglob(".tmp-*"))


def test_run_records_its_preprocessing(trained_run: Run):
    """RUN/preprocessing.json says how a face becomes the model's input, so every runtime predicts the same way."""
    from emokit.inference.preprocessing import Preprocessing, read_preprocessing

    written = json.loads((trained_run.path / "preprocessing.json").read_text())
    assert written == {"input_size": [48, 48], "channels": 1, "margin": 0.2, "tta_crop": 15 / 16, "version": 1}
    assert read_preprocessing(trained_run) == Preprocessing(input_size=(48, 48), channels=1)


def test_learns_well_above_chance_on_torch(trained_run: Run):
    assert trained_run.metrics()["splits"]["test"]["accuracy"] > 0.45  # chance is 1/7 = 0.14


def test_same_seed_gives_same_metrics(trained_run: Run, tmp_path):
    again = train(TrainConfig(**TINY_TRAINING), build_registry(), root=tmp_path, console=Console(quiet=True))
    first, second = trained_run.metrics()["splits"], again.metrics()["splits"]
    for split in ("val", "test"):
        assert first[split]["confusion_matrix"] == second[split]["confusion_matrix"]
        assert first[split]["loss"] == pytest.approx(second[split]["loss"], abs=1e-5)


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_learns_well_above_chance_on_other_backends(backend, tmp_path):
    # With the brief's augmentations: on JAX they must compile into the training step with the model.
    proc = emokit_process("train", *TINY_FLAGS, "--epochs", "3", "--backend", backend, "--out", str(tmp_path),
                          "--aug", "flip", "--aug", "rotation=degrees=10", "--aug", "zoom=factor=0.1",
                          "--aug", "shift=factor=0.1", backend=backend)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = find_run("latest", tmp_path)
    assert run.metadata()["backend"] == backend
    assert run.metrics()["splits"]["test"]["accuracy"] > 0.45


def test_mixed_bfloat16_training_learns_and_its_run_evaluates_in_float32(tmp_path):
    proc = emokit_process("train", *TINY_FLAGS, "--epochs", "3", "--backend", "tensorflow", "--precision", "mixed_bfloat16",
                          "--out", str(tmp_path), backend="tensorflow")
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = find_run("latest", tmp_path)
    assert run.config()["precision"] == "mixed_bfloat16"
    trained = run.metrics()["splits"]["test"]
    assert trained["accuracy"] > 0.45
    # The run's metrics come from the float32 model that evaluate, predict and the demo build.
    proc = emokit_process("evaluate", str(run.path), "--split", "test", "--json", "--backend", "torch", backend="torch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    evaluated = json.loads(proc.stdout)["test"]
    assert evaluated["confusion_matrix"] == trained["confusion_matrix"]
    assert evaluated["loss"] == pytest.approx(trained["loss"], abs=1e-4)


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_evaluate_on_another_backend_gives_the_same_metrics(trained_run: Run, backend):
    proc = emokit_process("evaluate", str(trained_run.path), "--split", "val", "--split", "test", "--json",
                          "--backend", backend, backend=backend)
    assert proc.returncode == 0, proc.stderr[-3000:]
    evaluated = json.loads(proc.stdout)
    trained = trained_run.metrics()["splits"]
    for split in ("val", "test"):
        assert evaluated[split]["confusion_matrix"] == trained[split]["confusion_matrix"]
        assert evaluated[split]["loss"] == pytest.approx(trained[split]["loss"], abs=1e-4)
    assert (trained_run.path / "evaluations" / f"keras+{backend}" / "confusion_test.png").exists()


def test_sigterm_keeps_checkpoint_and_resume_continues(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    proc = subprocess.Popen([sys.executable, "-m", "emokit", "train", *TINY_FLAGS, "--epochs", "4", "--patience", "4",
                             "--out", str(tmp_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    pointer = None
    while time.time() < deadline and proc.poll() is None:
        found = list(tmp_path.glob("*/checkpoint/latest.json"))
        if found and json.loads(found[0].read_text())["epoch"] >= 1:
            pointer = found[0]
            break
        time.sleep(0.5)
    assert pointer is not None, "no checkpoint appeared"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    assert "Training interrupted after epoch" in err and "emokit train --resume" in err
    run = Run(pointer.parents[1])
    stopped_at = run.status()["epoch"]
    assert run.status()["state"] == "interrupted" and stopped_at >= 1
    assert len(run.history()["loss"]) == stopped_at

    resumed = emokit_process("train", "--resume", str(run.path), backend="torch")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Resuming {run.name} after epoch {stopped_at}" in " ".join(resumed.stdout.split())
    assert run.status()["state"] == "completed"
    assert len(run.history()["loss"]) == 4  # the earlier epochs kept, the rest added, none repeated
    assert run.metrics()["epochs_run"] == 4


def test_runs_lists_and_compares(trained_run: Run, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "250")
    root = str(trained_run.path.parent)
    code, out, _ = run_cli(capsys, "runs", "--runs", root)
    assert code == 0 and trained_run.name in out and "small_cnn" in out and "synthetic" in out
    png = tmp_path / "compare.png"
    code, out, _ = run_cli(capsys, "runs", "compare", str(trained_run.path), str(trained_run.path), "--out", str(png))
    assert code == 0 and "best val acc" in out and png.stat().st_size > 1000


def test_evaluate_prints_tables(trained_run: Run, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli(capsys, "evaluate", str(trained_run.path), "--split", "test")
    assert code == 0, err
    assert "accuracy" in out and "per class" in out and "happy" in out


def test_predict_a_smiling_face_is_happy(trained_run: Run, capsys, tmp_path):
    """The brief's last step, on a drawn smiling face (the model was trained on drawn faces)."""
    import cv2
    import numpy as np

    from emokit_plugins.synthetic_faces import draw_face

    faces = [draw_face(np.random.default_rng(seed), 3, (48, 48), 1) for seed in range(5)]
    paths = []
    for i, face in enumerate(faces):
        paths.append(str(tmp_path / f"smile{i}.png"))
        cv2.imwrite(paths[-1], face)
    code, out, err = run_cli(capsys, "predict", str(trained_run.path), *paths, "--no-detect", "--json")
    assert code == 0, err
    emotions = [item["faces"][0]["emotion"] for item in json.loads(out)]
    assert emotions.count("happy") >= 4, emotions
