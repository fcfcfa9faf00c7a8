"""Issue #18, training: interrupts in every phase, NaN losses, exact resume, resume flags, run state, damaged checkpoints.

Tests that train are tiny (synthetic faces at 24x24, small_cnn at a quarter width, torch) and marked slow.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from cli_utils import emokit_process, run_cli
from emokit.errors import EmokitError, PluginError
from emokit.registry import build_registry
from emokit.runs import Run, latest_usable_run
from emokit.training.config import TrainConfig
from plugin_utils import PLUGINS, install_entry_point

#: The smallest training that still learns: one epoch is a few seconds of work.
TINY = dict(arch="small_cnn", arch_options={"width": 0.25, "dense_units": 32}, image_size=24, batch_size=128,
            backend="torch", seed=1, patience=3)
TINY_FLAGS = ["--arch", "small_cnn", "--set", "width=0.25", "--set", "dense_units=32", "--image-size", "24",
              "--batch-size", "128", "--seed", "1", "--backend", "torch"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def faults_registry(monkeypatch):
    """The built-in plugins plus tests/plugins/plugin_training_faults.py as plugin 'training_faults'."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    return build_registry([("training_faults", importlib.import_module("plugin_training_faults"))], blocked=())


def emokit_popen(*args: str, cwd: Path, site: Path | None = None, terminal: bool = False, **env: str) -> subprocess.Popen:
    """``emokit ARGS`` as a child process (stdout and stderr together), optionally with a site of test plugins."""
    environment = {**os.environ, "COLUMNS": "200", **env}
    if site is not None:
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), str(PLUGINS), os.environ.get("PYTHONPATH")]))
    if terminal:  # rich draws its live bars as on a terminal, where an unfinished bar line shows
        environment.update(FORCE_COLOR="1", TTY_COMPATIBLE="1", TTY_INTERACTIVE="1")
    return subprocess.Popen([sys.executable, "-m", "emokit", *args], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=cwd)


def wait_for(condition, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended first: {proc.communicate()[0][-3000:]}")
        time.sleep(0.1)
    raise AssertionError("timed out")


def stopped_within(proc: subprocess.Popen, seconds: float) -> str:
    """The output of ``proc``, which must end within ``seconds``; ANSI codes removed."""
    started = time.time()
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"still running {seconds} s after the signal: {out[-2000:]}") from None
    assert time.time() - started <= seconds
    return ANSI.sub("", out)


def error_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "Error:" in line or "Stopped at once" in line]


# ---------------------------------------------------------------- item 2: a signal in any phase


@pytest.mark.slow
@pytest.mark.parametrize("signals", [(signal.SIGINT,), (signal.SIGTERM,), (signal.SIGINT, signal.SIGINT)])
def test_a_signal_while_data_loads_stops_within_seconds(tmp_path, signals):
    """The data plugin waits on sleeping worker threads, like a large decode; Ctrl-C used to wait for them (60 s)."""
    site = tmp_path / "site"
    install_entry_point(site, "emokit-training-faults", "training_faults", "plugin_training_faults")
    marker, runs = tmp_path / "loading", tmp_path / "runs"
    proc = emokit_popen("train", *TINY_FLAGS, "--dataset", "stuck_data", "--out", str(runs), cwd=tmp_path, site=site,
                        EMOKIT_TEST_MARKER=str(marker))
    wait_for(marker.exists, 300, proc)
    time.sleep(0.5)  # the main thread is now waiting on the workers
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.3)
    out = stopped_within(proc, 10 if len(signals) == 1 else 3)
    assert proc.returncode == 2, out
    assert "Training interrupted before it started; no run was written." in out or "Stopped at once" in out, out
    assert "Traceback" not in out
    assert not runs.exists() or not any(runs.iterdir()), "no run folder for a training that never started"


@pytest.mark.slow
def test_sigterm_in_the_first_epoch_says_there_is_no_checkpoint_on_its_own_line(tmp_path):
    proc = emokit_popen("train", *TINY_FLAGS, "--epochs", "3", "--out", str(tmp_path), cwd=tmp_path, terminal=True)
    status_files: list[Path] = []

    def running() -> bool:
        status_files[:] = list(tmp_path.glob("*/status.json"))
        return bool(status_files) and json.loads(status_files[0].read_text())["state"] == "running"

    wait_for(running, 300, proc)
    status = json.loads(status_files[0].read_text())
    assert status["pid"] == proc.pid and status["host"] == socket.gethostname()  # item 6: who trains it
    time.sleep(1.0)  # into the first epoch (graph tracing, first batches)
    proc.send_signal(signal.SIGTERM)
    out = stopped_within(proc, 10)
    assert proc.returncode == 2, out
    lines = error_lines(out)
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"the message has a line of its own: {out[-1500:]}"
    assert "before the first checkpoint: there is nothing to resume from" in lines[0]
    assert "checkpoint is kept" not in out
    run = Run(status_files[0].parent)
    assert run.status()["state"] == "interrupted" and run.status()["epoch"] == 0


# ---------------------------------------------------------------- item 3: NaN loss


def test_an_infinite_learning_rate_is_refused_before_anything_runs(tmp_path):
    from emokit.training.trainer import train

    with pytest.raises(EmokitError, match="--lr must be a positive finite number, got inf"):
        train(TrainConfig(**{**TINY, "lr": float("inf")}), build_registry(), root=tmp_path, console=Console(quiet=True))
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("change", [{"augmentations": (("nan_pixels", {}),)}, {"lr": 1e30}])
def test_a_nan_loss_stops_the_run_as_failed(faults_registry, tmp_path, change):
    from emokit.training.callbacks import TrainingDiverged
    from emokit.training.trainer import train

    config = TrainConfig(**{**TINY, "epochs": 2, **change})
    with pytest.raises(TrainingDiverged) as caught:
        train(config, faults_registry, root=tmp_path, console=Console(quiet=True))
    message = str(caught.value)
    assert "\n" not in message and "training diverged" in message and ("nan" in message or "inf" in message)
    (run_path,) = tmp_path.iterdir()
    status = Run(run_path).status()
    assert status["state"] == "failed" and "diverged" in status["reason"]
    assert not Run(run_path).weights_file.exists(), "ruined weights are never saved as the best"


# ---------------------------------------------------------------- items 4, 5, 7: resume


@pytest.mark.slow
def test_resume_continues_the_random_state_and_cleans_stale_temp_files(tmp_path):
    """Epochs 1-2 in one go, and epoch 1 then (after a restart) epoch 2, give the same history."""
    from emokit.training.trainer import train

    augmented = {**TINY, "augmentations": (("flip", {}), ("rotation", {"degrees": 10.0}))}
    whole = train(TrainConfig(**augmented, epochs=2), build_registry(), root=tmp_path / "whole", console=Console(quiet=True))
    split = train(TrainConfig(**augmented, epochs=1), build_registry(), root=tmp_path / "split", console=Console(quiet=True))
    stale = split.path / f".tmp-999999-deadbeef-{split.weights_file.name}"  # a kill -9 during the weights write
    stale.write_bytes(b"half a file")
    resumed = emokit_process("train", "--resume", str(split.path), "--epochs", "2", timeout=600)  # a new process
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Resuming {split.name} after epoch 1" in " ".join(resumed.stdout.split())
    assert not stale.exists(), "the stale temp file is removed on resume"
    first, second = whole.history(), split.history()
    assert len(second["loss"]) == 2
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert second[key] == pytest.approx(first[key], abs=1e-5), key
    assert TrainConfig.from_dict(split.config()).epochs == 2  # the run records what it now trains for


def _fake_run(root: Path) -> Run:
    run = Run(root / "20260101-000000-small_cnn-torch")
    run.path.mkdir(parents=True)
    # Data that is not there: whatever the resume would do past its checks fails fast.
    (run.config_file).write_text(json.dumps(TrainConfig(**TINY, epochs=2, data=str(root / "gone.zip")).to_dict()))
    (run.status_file).write_text(json.dumps({"state": "interrupted", "epoch": 1}))
    return run


def test_resume_refuses_the_flags_it_cannot_apply(tmp_path, capsys):
    run = _fake_run(tmp_path)
    code, out, err = run_cli(capsys, "train", "--resume", str(run.path), "--lr", "0.1", "--seed", "3", "--epochs", "4")
    assert code == 2
    line = " ".join(err.split())
    assert "cannot change --lr, --seed" in line and "only --epochs, --patience, --out apply" in line
    assert "--epochs," not in line.split("cannot change")[1].split(".")[0], "--epochs is allowed"


def test_resume_refuses_a_run_that_another_process_trains(tmp_path, capsys):
    run = _fake_run(tmp_path)
    run.status_file.write_text(json.dumps({"state": "running", "epoch": 1, "pid": os.getpid(), "host": socket.gethostname()}))
    code, _, err = run_cli(capsys, "train", "--resume", str(run.path))
    assert code == 2 and f"being trained by process {os.getpid()}" in err


# ---------------------------------------------------------------- item 6: run state


def test_a_running_run_whose_process_is_gone_reads_stopped(tmp_path):
    run = _fake_run(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    run.status_file.write_text(json.dumps({"state": "running", "epoch": 1, "pid": child.pid, "host": socket.gethostname()}))
    assert run.status()["state"] == "running"
    child.kill()  # kill -9
    child.wait()
    assert run.status()["state"] == "stopped (process gone)"
    assert run.status()["epoch"] == 1


@pytest.mark.slow
def test_ctrl_c_during_the_final_evaluation_marks_the_run_interrupted_and_resume_only_evaluates(tmp_path, monkeypatch, capsys):
    import emokit.training.trainer as trainer

    real = trainer.evaluate_splits

    def interrupted_evaluation(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, delivered during the evaluation
        time.sleep(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "evaluate_splits", interrupted_evaluation)
    with pytest.raises(trainer.TrainingInterrupted) as caught:
        trainer.train(TrainConfig(**TINY, epochs=1), build_registry(), root=tmp_path, console=Console(quiet=True))
    assert "during the final evaluation; the trained weights (epoch 1) are kept" in str(caught.value)
    (run_path,) = tmp_path.iterdir()
    run = Run(run_path)
    assert run.status()["state"] == "interrupted" and run.weights_file.exists() and not run.metrics_file.exists()
    monkeypatch.setattr(trainer, "evaluate_splits", real)
    code, out, err = run_cli(capsys, "train", "--resume", str(run.path))
    assert code == 0, err
    assert run.status()["state"] == "completed" and len(run.history()["loss"]) == 1 and run.metrics()["epochs_run"] == 1


# ---------------------------------------------------------------- item 7: temp files


def test_temp_files_are_unique_per_writer_and_stale_ones_are_removed(tmp_path):
    from emokit.atomic import atomic_path, remove_stale_temps

    target = tmp_path / "status.json"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second and first.name.startswith(".tmp-") and first.name.endswith("status.json")
        first.write_text("1")
        second.write_text("2")
    assert target.read_text() in ("1", "2") and not list(tmp_path.glob(".tmp-*"))
    (tmp_path / "checkpoint").mkdir()
    stale = tmp_path / "checkpoint" / ".tmp-1-abc-latest.json"
    stale.write_text("{")
    assert remove_stale_temps(tmp_path) == [stale] and not stale.exists() and target.exists()


# ---------------------------------------------------------------- item 8: failures after setup


@pytest.mark.slow
def test_a_plugin_crash_inside_fit_names_the_plugin_and_marks_the_run_failed(faults_registry, tmp_path):
    from emokit.training.trainer import train

    config = TrainConfig(**{**TINY, "epochs": 1, "augmentations": (("fails_later", {"after": 3}),)})
    with pytest.raises(PluginError) as caught:
        train(config, faults_registry, root=tmp_path, console=Console(quiet=True))
    message = str(caught.value)
    assert "\n" not in message and "Augmentation 'fails_later' from plugin 'training_faults'" in message
    assert "the noise table ran out" in message
    (run_path,) = tmp_path.iterdir()
    status = Run(run_path).status()
    assert status["state"] == "failed" and "fails_later" in status["reason"]
    with pytest.raises(EmokitError, match="no trained weights yet.{0,3}failed"):  # `latest` never picks it
        latest_usable_run(tmp_path)


# ---------------------------------------------------------------- item 9: damaged checkpoints


def _last_kernel(model):
    """The kernel of the model's last layer with weights (its head): set per epoch, so a restore shows which it loaded."""
    return [layer for layer in model.layers if layer.weights][-1].weights[0]


@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory):
    """A run folder with the checkpoints of epochs 1 and 2 of a tiny model (no training: the files are what matter)."""
    from emokit.backend import load_keras
    from emokit.builder import build_model
    from emokit.training.checkpoint import save_checkpoint
    from emokit.specs import build_spec
    from emokit.training.preflight import input_shape

    registry = build_registry()
    keras = load_keras(registry, "torch")[1]
    config = TrainConfig(**TINY)
    spec = build_spec(registry, config.arch, config.arch_options, input_shape(config), ("a", "b", "c"))
    run = Run(tmp_path_factory.mktemp("checkpointed"))

    def fresh():
        model = build_model(spec, keras)
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(model.trainable_variables)
        return model, optimizer

    model, optimizer = fresh()
    for epoch in (1, 2):
        kernel = _last_kernel(model)
        kernel.assign(np.full(kernel.shape, float(epoch)))
        save_checkpoint(run, model, optimizer, {"epoch": epoch, "best_val_accuracy": 0.5, "best_epoch": epoch,
                                                "history": {"loss": [1.0] * epoch}, "stopped_early": False})
    return run, fresh, keras, spec


def _damage(run: Run, tmp_path: Path, damage) -> Run:
    import shutil

    copy = Run(tmp_path / "run")
    shutil.copytree(run.path, copy.path)
    damage(copy)
    return copy


def _last_weight(model) -> float:
    return float(np.asarray(_last_kernel(model).numpy()).flat[0])


@pytest.mark.parametrize("damage, named", [
    (lambda run: (run.checkpoint_dir / "latest.json").write_text("{not json"), "latest.json"),
    (lambda run: (run.checkpoint_dir / "epoch-2" / "model.weights.h5").write_bytes(b"garbage" * 100), "model.weights.h5"),
    (lambda run: (run.checkpoint_dir / "epoch-2" / "model.weights.h5").write_bytes(
        (run.checkpoint_dir / "epoch-2" / "model.weights.h5").read_bytes()[:3000]), "model.weights.h5"),
    (lambda run: (run.checkpoint_dir / "epoch-2" / "optimizer.npz").write_bytes(
        (run.checkpoint_dir / "epoch-2" / "optimizer.npz").read_bytes()[:500]), "optimizer.npz"),
])
def test_a_damaged_checkpoint_is_named_and_the_one_before_is_used(checkpointed, tmp_path, damage, named):
    from emokit.training.checkpoint import resume_from_checkpoint

    run, fresh, _, _ = checkpointed
    copy = _damage(run, tmp_path, damage)
    model, optimizer = fresh()
    warnings: list[str] = []
    state = resume_from_checkpoint(copy, model, optimizer, warnings.append)
    assert warnings and named in warnings[0] and "damaged" in warnings[0] and all("\n" not in w for w in warnings)
    if named == "latest.json":  # the pointer is gone, the newest folder is intact
        assert state["epoch"] == 2 and _last_weight(model) == 2.0
    else:
        assert state["epoch"] == 1 and _last_weight(model) == 1.0 and "Falling back to the checkpoint of epoch 1" in warnings[-1]


def test_wrong_shape_weights_in_every_checkpoint_are_one_line_naming_the_file(checkpointed, tmp_path):
    from emokit.builder import build_model
    from emokit.training.checkpoint import DamagedCheckpoint, resume_from_checkpoint
    from emokit.specs import build_spec
    from emokit.training.preflight import input_shape

    run, fresh, keras, _ = checkpointed
    config = TrainConfig(**TINY)
    other = build_model(build_spec(build_registry(), config.arch, config.arch_options, input_shape(config), ("a", "b", "c", "d", "e")), keras)

    def wrong_shapes(copy: Run) -> None:
        for folder in copy.checkpoint_dir.glob("epoch-*"):
            other.save_weights(folder / "model.weights.h5")

    copy = _damage(run, tmp_path, wrong_shapes)
    model, optimizer = fresh()
    with pytest.raises(DamagedCheckpoint) as caught:
        resume_from_checkpoint(copy, model, optimizer, lambda line: None)
    assert "\n" not in str(caught.value) and "epoch-2/model.weights.h5" in str(caught.value)


# ---------------------------------------------------------------- items 10, 11: what training says and records


@pytest.mark.slow
def test_training_says_what_data_it_used_and_what_to_do_next_and_records_plugin_versions(tmp_path):
    from emokit import __version__

    proc = subprocess.run([sys.executable, "-m", "emokit", "train", *TINY_FLAGS, "--epochs", "1", "--out", str(tmp_path)],
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = " ".join(proc.stdout.split())
    assert "Data: the built-in synthetic faces (procedurally drawn, not FER-2013): train 2,800" in out
    assert "synthetic from synthetic" not in out
    (run_path,) = tmp_path.iterdir()
    for command in (f"emokit evaluate {run_path}", f"emokit predict {run_path} photo.jpg", f"emokit demo {run_path}"):
        assert command in proc.stdout, command  # exact, on one line, ready to copy
    plugins = Run(run_path).metadata()["plugins"]
    assert plugins["architecture"] == {"plugin": "architectures", "package": "emokit", "version": __version__}
