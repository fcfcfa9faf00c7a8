"""Issue #18, the CLI a new user meets: ``latest`` skips runs that cannot answer (and says so), tables
that never cut a run's name or call an F1 score seconds, synthetic accuracy always labelled as such,
argument errors before any model loads, and flags shown without a value placeholder in ``--help``.

Fast tests use run folders written here (a real spec, but no trained weights or placeholder weights
that are never loaded); the tests marked slow use the real trained run of ``conftest.trained_run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from cli_utils import run_cli
from emokit.atomic import write_json
from emokit.cli.tables import metrics_table, split_metrics_table
import emokit.runs as runs
from emokit.runs import Run, latest_usable_run
from emokit.training.config import TrainConfig

HEAVY_MODULES = ("keras", "torch", "tensorflow", "jax")


@pytest.fixture(scope="module")
def spec_json() -> str:
    """A real small_cnn spec, made without any backend."""
    from emokit.registry import build_registry
    from emokit.specs import spec_for

    return spec_for(build_registry(), "small_cnn").to_json()


def split_metrics(accuracy: float, macro_f1: float) -> dict:
    return {"images": 420, "accuracy": accuracy, "loss": 0.05, "macro_f1": macro_f1,
            "per_class": {"happy": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 60}}}


def make_run(root: Path, name: str, spec_json: str | None, *, weights: bool = True, state: str = "completed",
             dataset: str = "synthetic", age_s: float = 0.0) -> Run:
    """A run folder as training leaves it; ``age_s`` makes it that much older than now (runs sort by it)."""
    path = root / name
    path.mkdir(parents=True)
    write_json(path / "config.json", TrainConfig(arch="small_cnn", epochs=5).to_dict())
    if spec_json is not None:
        (path / "spec.json").write_text(spec_json)
    if weights:
        (path / "model.weights.h5").write_bytes(b"placeholder: never loaded by these tests")
        (path / "history.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy\n0,1.5,0.4,1.4,0.45\n1,1.0,0.7,0.9,0.8123\n")
        write_json(path / "metrics.json", {"backend": "torch", "dataset": dataset, "best_epoch": 2, "epochs_run": 2,
                                           "splits": {"val": split_metrics(0.8123, 0.8012), "test": split_metrics(0.9952, 0.7345)}})
        write_json(path / "metadata.json", {"dataset": dataset, "timings": {"total_s": 77.7, "train_s": 33.8}})
    write_json(path / "status.json", {"state": state, "epoch": 2 if weights else 0})
    stamp = 1_800_000_000 - age_s
    os.utime(path / "config.json", (stamp, stamp))
    return Run(path)


def emokit_cli(*args: str, columns: int = 200, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``emokit ARGS`` in a fresh process whose terminal is ``columns`` wide."""
    return subprocess.run([sys.executable, "-m", "emokit", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {}), "COLUMNS": str(columns)})


# -- 1. latest skips runs that cannot answer, and says which and why ---------------------------------------------


def test_latest_skips_newer_runs_without_weights_and_names_them(tmp_path, spec_json):
    usable = make_run(tmp_path, "20261201-100000-small_cnn-torch", spec_json, age_s=300)
    training = make_run(tmp_path, "20261202-100000-small_cnn-torch", spec_json, weights=False, state="running", age_s=200)
    never = make_run(tmp_path, "20261202-110000-small_cnn-torch", None, weights=False, state="failed", age_s=100)
    assert latest_usable_run(tmp_path) == usable
    skipped = runs.skipped_newer_runs(tmp_path, usable)
    assert [run for run, _ in skipped] == [never, training]  # newest first, as `latest` looked at them
    note = runs.describe_skipped(usable, skipped)
    assert "\n" not in note and usable.name in note
    assert f"{training.name} (no trained weights yet, running)" in note
    assert never.name in note and "spec.json" in note
    assert runs.describe_skipped(usable, []) is None


def test_runs_listing_marks_runs_without_weights(tmp_path, spec_json):
    make_run(tmp_path, "20261201-100000-small_cnn-torch", spec_json, age_s=300)
    make_run(tmp_path, "20261202-100000-small_cnn-torch", spec_json, weights=False, state="running", age_s=200)
    result = emokit_cli("runs", "--runs", str(tmp_path), columns=160)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "20261202-100000" in line)
    assert "no weights" in row and "running" in row
    usable_row = next(line for line in result.stdout.splitlines() if "20261201-100000" in line)
    assert "no weights" not in usable_row and "completed" in usable_row


@pytest.fixture(scope="module")
def runs_with_newer_weightless(trained_run, tmp_path_factory) -> tuple[Path, Run, Run]:
    """The real trained run, and a newer run folder that is still training (spec, no weights yet)."""
    root = tmp_path_factory.mktemp("latest-runs")
    usable = Run(shutil.copytree(trained_run.path, root / trained_run.name, ignore=shutil.ignore_patterns("checkpoint")))
    newer = make_run(root, "20991231-235959-small_cnn-torch", trained_run.spec_file.read_text(), weights=False,
                     state="running", age_s=-3600)
    assert latest_usable_run(root) == usable
    return root, usable, newer


@pytest.mark.slow
def test_predict_latest_uses_the_newest_run_with_weights_and_says_what_it_skipped(capsys, runs_with_newer_weightless, tmp_path):
    root, usable, newer = runs_with_newer_weightless
    image = tmp_path / "face.png"
    _write_face(image)
    code, out, err = run_cli(capsys, "predict", "latest", str(image), "--no-detect", "--json", "--runs", str(root))
    assert code == 0, err
    assert json.loads(out)[0]["faces"][0]["emotion"]
    note = " ".join(err.split())
    assert usable.name in note and newer.name in note and "no trained weights yet" in note


@pytest.mark.slow
def test_evaluate_latest_uses_the_newest_run_with_weights_and_labels_synthetic(capsys, runs_with_newer_weightless):
    root, usable, newer = runs_with_newer_weightless
    code, out, err = run_cli(capsys, "evaluate", "latest", "--runs", str(root))
    assert code == 0, err
    assert newer.name in " ".join(err.split())
    assert usable.name in out
    test_row = next(line for line in out.splitlines() if line.strip("│ ").startswith("test"))
    assert "synthetic" in test_row


def _write_face(path: Path) -> None:
    import cv2
    import numpy as np

    image = np.full((48, 48), 128, np.uint8)
    cv2.circle(image, (24, 24), 16, 200, -1)
    cv2.imwrite(str(path), image)


# -- 2. runs compare formats each value by what it is ----------------------------------------------------------------


def test_compare_shows_f1_as_a_fraction_accuracy_as_percent_and_time_as_seconds(tmp_path, spec_json):
    make_run(tmp_path, "run-a", spec_json, age_s=200)
    make_run(tmp_path, "run-b", spec_json, age_s=100)
    result = emokit_cli("runs", "compare", "run-a", "run-b", "--runs", str(tmp_path), "--out", str(tmp_path / "c.png"))
    assert result.returncode == 0, result.stderr
    rows = {cells[0]: cells[1:] for line in result.stdout.splitlines() if "│" in line
            for cells in [[cell.strip() for cell in line.strip().strip("│").split("│")]]}
    assert rows["test macro-F1"] == ["0.735", "0.735"]
    assert rows["val macro-F1"] == ["0.801", "0.801"]
    assert rows["test acc"] == ["99.52% (synthetic)"] * 2  # never a synthetic accuracy without saying so
    assert rows["wall time"] == ["1m 18s"] * 2
    assert rows["lr"] == ["0.001", "0.001"]


# -- 3. runs never cuts a run's name ---------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 120])
def test_runs_listing_shows_every_name_whole_on_one_line(tmp_path, spec_json, columns):
    names = ["20261202-105512-small_cnn-torch", "20261202-110733-mini_xception-tensorflow",
             "20261202-111500-resnet_fer-jax"]
    for age, name in enumerate(names):
        make_run(tmp_path, name, spec_json, age_s=100 - age)
    make_run(tmp_path, "20261202-120000-vgg_fer-torch", spec_json, weights=False, state="running")
    result = emokit_cli("runs", "--runs", str(tmp_path), columns=columns)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= columns for line in lines), result.stdout
    for name in [*names, "20261202-120000-vgg_fer-torch"]:
        assert any(name in line for line in lines), (name, result.stdout)
    # Test accuracy of a synthetic run is never shown without "synthetic" on its row.
    for line in lines:
        if "99.52%" in line:
            assert "synthetic" in line, result.stdout


# -- 4. results tables: titles that do not wrap mid-phrase, synthetic accuracy said plainly --------------------------


def rendered(renderable, width: int) -> list[str]:
    console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [60, 80, 120])
def test_training_results_title_keeps_its_phrases_and_says_synthetic(tmp_path, spec_json, width):
    run = make_run(tmp_path, "20261202-110733-mini_xception-tensorflow", spec_json)
    lines = rendered(metrics_table(run), width)
    text = "\n".join(lines)
    assert any("best epoch 2 of 2" in line for line in lines), text
    assert any(run.name in line for line in lines), text
    for line in lines:
        if "99.52%" in line:
            assert "synthetic" in line, text


def test_results_on_a_real_dataset_say_nothing_of_synthetic(tmp_path, spec_json):
    run = make_run(tmp_path, "20261202-110733-mini_xception-tensorflow", spec_json, dataset="fer2013")
    text = "\n".join(rendered(metrics_table(run), 100))
    assert "99.52%" in text and "synthetic" not in text


def test_evaluate_table_labels_synthetic_rows():
    table = split_metrics_table(["run on synthetic (torch)"], {"test": split_metrics(0.9952, 0.73)}, dataset="synthetic")
    lines = rendered(table, 80)
    assert all("synthetic" in line for line in lines if "99.52%" in line), lines


# -- 5. errors that need no model come first -------------------------------------------------------------------------

#: Each case runs in one fresh process, in order; after each, no Keras backend may have been imported.
EARLY_ERRORS = {
    "predict missing image": (["predict", "{usable}", "{tmp}/missing.png"], "missing.png' does not exist"),
    "predict folder": (["predict", "{usable}", "{tmp}"], "is a folder"),
    "predict empty image": (["predict", "{usable}", "{tmp}/empty.png"], "empty file"),
    "predict tta": (["predict", "{usable}", "{tmp}/face.png", "--tta", "mirror"], "Unknown test-time augmentation 'mirror'"),
    "predict runtime": (["predict", "{usable}", "{tmp}/face.png", "--runtime", "fast"], "Unknown runtime 'fast'"),
    "predict detector": (["predict", "{usable}", "{tmp}/face.png", "--detector", "har"], "Unknown face detector 'har'"),
    "predict backend": (["predict", "{usable}", "{tmp}/face.png", "--backend", "torchh"], "Unknown backend 'torchh'"),
    "predict run without weights": (["predict", "{training}", "{tmp}/face.png"], "no trained weights yet"),
    "evaluate split": (["evaluate", "{usable}", "--split", "tset"], "Unknown split 'tset'"),
    "evaluate data": (["evaluate", "{usable}", "--data", "{tmp}/no-such.zip"], "no-such.zip' does not exist"),
    "evaluate tta": (["evaluate", "{usable}", "--tta", "mirror"], "Unknown test-time augmentation 'mirror'"),
    "evaluate runtime": (["evaluate", "{usable}", "--runtime", "fast"], "Unknown runtime 'fast'"),
    "evaluate run without weights": (["evaluate", "{training}"], "no trained weights yet"),
    "export run without weights": (["export", "{training}"], "no trained weights yet"),
}

EARLY_SCRIPT = """
import contextlib, io, json, sys
from emokit.cli import main
results = {}
for name, args in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code
        except BaseException as exc:
            code, err = repr(exc), io.StringIO(repr(exc))
    results[name] = {"code": code, "err": err.getvalue(), "heavy": [m for m in %r if m in sys.modules]}
print(json.dumps(results))
""" % (HEAVY_MODULES,)


@pytest.fixture(scope="module")
def early_errors(tmp_path_factory, spec_json) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("early")
    usable = make_run(tmp / "runs", "usable", spec_json)
    training = make_run(tmp / "runs", "training", spec_json, weights=False, state="running")
    (tmp / "empty.png").write_bytes(b"")
    _write_face(tmp / "face.png")
    fill = {"usable": str(usable.path), "training": str(training.path), "tmp": str(tmp)}
    cases = {name: [arg.format(**fill) for arg in args] for name, (args, _) in EARLY_ERRORS.items()}
    result = subprocess.run([sys.executable, "-c", EARLY_SCRIPT, json.dumps(cases)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "COLUMNS": "300"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("case", list(EARLY_ERRORS))
def test_argument_errors_come_before_any_model_loads(early_errors, case):
    outcome, message = early_errors[case], EARLY_ERRORS[case][1]
    assert outcome["code"] == 2, outcome
    assert message in " ".join(outcome["err"].split()), outcome
    assert len(outcome["err"].strip().splitlines()) == 1, outcome
    assert outcome["heavy"] == [], f"{case}: {outcome['heavy']} imported before the error"


# -- 6. flags are shown without a value placeholder ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["predict", "evaluate", "export", "describe", "runs", "runs compare", "train", "demo"])
def test_help_shows_flags_without_a_value(capsys, command):
    code, out, err = run_cli(capsys, *command.split(), "--help")
    assert code == 0, err
    assert "<bool>" not in out, out
    assert "--help" in out


def test_predict_help_shows_json_as_a_plain_flag_and_values_with_their_type(capsys):
    code, out, _ = run_cli(capsys, "predict", "--help")
    json_line = next(line for line in out.splitlines() if "--json" in line)
    assert "<" not in json_line and "Print JSON" in json_line
    assert "<str>" in next(line for line in out.splitlines() if "--runtime" in line)
