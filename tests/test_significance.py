"""Issue #21, significance: McNemar's test and a bootstrap interval on per-face predictions, which every
evaluation now keeps in the run folder, shown by ``emokit runs compare``.

The statistics are checked on generated correctness whose answer is known (the same predictions: p = 1,
an interval of exactly zero; a clearly worse predictor: p < 0.01) and against values worked by hand.
The command is checked on run folders holding real predictions files (fast), and on real tiny runs:
a run against itself, and against a run trained to be clearly worse (slow).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from cli_utils import run_cli
from emokit.atomic import write_json
from emokit.errors import EmokitError
from emokit.records import Dataset, Split
from emokit.runs import Run
from emokit.significance import CHI_SQUARED, EXACT, bootstrap_difference, mcnemar
from emokit.split_predictions import faces_id, read_predictions, split_predictions, write_predictions
from emokit.training.config import TrainConfig

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


# -- the statistics ----------------------------------------------------------------------------------------------------


def test_the_same_predictions_give_p_1_and_an_interval_of_zero():
    correct = np.random.default_rng(0).random(420) < 0.8
    test = mcnemar(correct, correct)
    assert (test.only_first, test.only_second, test.p_value, test.method) == (0, 0, 1.0, EXACT)
    interval = bootstrap_difference(correct, correct)
    assert (interval.difference, interval.low, interval.high) == (0.0, 0.0, 0.0)


def test_a_clearly_worse_predictor_on_a_few_hundred_faces_gives_p_below_0_01():
    rng = np.random.default_rng(1)
    good = rng.random(300) < 0.90
    worse = rng.random(300) < 0.60
    test = mcnemar(good, worse)
    assert test.p_value < 0.01 and test.method == CHI_SQUARED
    interval = bootstrap_difference(good, worse)
    assert interval.high < 0 and interval.low <= interval.difference <= interval.high
    assert math.isclose(interval.difference, worse.mean() - good.mean())
    # The direction is the second's accuracy minus the first's: swapped, the interval flips sign.
    swapped = bootstrap_difference(worse, good)
    assert swapped.low > 0 and math.isclose(swapped.difference, -interval.difference)


def test_mcnemar_matches_values_worked_by_hand():
    # 5 faces right only for the first, none only for the second: exact, p = 2 * (1/2)^5.
    first = np.array([True] * 5 + [True] * 10 + [False] * 3)
    second = np.array([False] * 5 + [True] * 10 + [False] * 3)
    exact = mcnemar(first, second)
    assert (exact.only_first, exact.only_second, exact.method) == (5, 0, EXACT)
    assert math.isclose(exact.p_value, 0.0625)
    # 3 against 9 (12 discordant): p = 2 * P(X <= 3), X ~ Binomial(12, 1/2) = 2 * 299 / 4096.
    first = np.array([True] * 3 + [False] * 9)
    assert math.isclose(mcnemar(first, ~first).p_value, 2 * 299 / 4096)
    # 40 against 20 discordant: chi-squared (|40 - 20| - 1)^2 / 60 = 6.0167, p = 0.01418 (1 degree of freedom).
    first = np.array([True] * 40 + [False] * 20)
    large = mcnemar(first, ~first)
    assert large.method == CHI_SQUARED and math.isclose(large.statistic, 19**2 / 60)
    assert math.isclose(large.p_value, math.erfc(math.sqrt(19**2 / 60 / 2))) and 0.0141 < large.p_value < 0.0143
    # Equal discordant counts: no evidence either way.
    first = np.array([True] * 30 + [False] * 30)
    assert mcnemar(first, ~first).p_value == 1.0


def test_the_bootstrap_is_seeded_and_covers_the_observed_difference():
    rng = np.random.default_rng(2)
    first, second = rng.random(500) < 0.7, rng.random(500) < 0.75
    one, again = bootstrap_difference(first, second, seed=3), bootstrap_difference(first, second, seed=3)
    assert one == again and one.resamples == 2000 and one.confidence == 0.95
    assert one.low < one.difference < one.high
    # A paired interval is narrower than the spread of two independent accuracies would suggest, and about
    # the normal approximation's width: 2 * 1.96 * sd(d) / sqrt(n).
    d = second.astype(float) - first.astype(float)
    normal = 2 * 1.96 * d.std() / math.sqrt(len(d))
    assert 0.8 * normal < one.high - one.low < 1.2 * normal


def test_unpaired_correctness_is_refused():
    with pytest.raises(ValueError, match="one length"):
        mcnemar(np.ones(3, bool), np.ones(4, bool))


# -- the predictions file ----------------------------------------------------------------------------------------------


def dataset_of(labels: np.ndarray, *, fingerprint: str = "f1", size: int = 8) -> Dataset:
    images = (np.arange(len(labels) * size * size) % 251).astype(np.uint8).reshape(len(labels), size, size, 1)
    return Dataset("synthetic", CLASSES, {"test": Split(images, labels)}, fingerprint, "synthetic")


def probabilities_for(labels: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Probabilities whose top class is the label where ``correct``, the next class otherwise."""
    predicted = np.where(correct, labels, (labels + 1) % len(CLASSES))
    probabilities = np.full((len(labels), len(CLASSES)), 0.02, np.float32)
    probabilities[np.arange(len(labels)), predicted] = 0.88
    return probabilities


def test_predictions_round_trip_and_identify_their_faces(tmp_path):
    labels = np.random.default_rng(4).integers(0, 7, 200)
    correct = np.random.default_rng(5).random(200) < 0.6
    dataset = dataset_of(labels)
    written = write_predictions(tmp_path, split_predictions(dataset, "test", probabilities_for(labels, correct), CLASSES, "keras+torch"))
    assert written == tmp_path / "test.npz" and not list(tmp_path.glob(".tmp-*"))
    read = read_predictions(written)
    assert read.evaluator == "keras+torch" and read.class_names == CLASSES and read.dataset == "synthetic"
    assert np.array_equal(read.labels, labels) and np.array_equal(read.correct, correct)
    assert read.accuracy == pytest.approx(correct.mean())
    # The same faces resized are the same faces; another order, or another dataset, is not.
    assert faces_id(dataset_of(labels, size=16), "test") == read.faces_id
    assert faces_id(dataset_of(labels[::-1].copy()), "test") != read.faces_id
    assert faces_id(dataset_of(labels, fingerprint="f2"), "test") != read.faces_id
    assert read_predictions(tmp_path / "val.npz") is None


def test_a_damaged_predictions_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "test.npz").write_bytes(b"not a zip")
    with pytest.raises(EmokitError, match="test.npz' is not a readable predictions file") as caught:
        read_predictions(tmp_path / "test.npz")
    assert len(str(caught.value).splitlines()) == 1


# -- `emokit runs compare` on run folders with predictions ------------------------------------------------------------


def fake_run(root: Path, name: str, correct: np.ndarray | None, labels: np.ndarray, *, fingerprint: str = "f1") -> Run:
    """A finished run's files (no weights are loaded by compare), with per-face test predictions if ``correct``."""
    run = Run(root / name)
    run.path.mkdir(parents=True)
    write_json(run.config_file, TrainConfig(epochs=2).to_dict())
    accuracy = None if correct is None else float(correct.mean())
    write_json(run.metrics_file, {"dataset": "synthetic", "splits": {"test": {"accuracy": accuracy, "macro_f1": 0.5}}})
    run.history_file.write_text("epoch,loss,accuracy,val_loss,val_accuracy\n0,1.5,0.4,1.4,0.45\n1,1.0,0.7,0.9,0.8\n")
    if correct is not None:
        dataset = dataset_of(labels, fingerprint=fingerprint)
        write_predictions(run.predictions_dir, split_predictions(dataset, "test", probabilities_for(labels, correct), CLASSES,
                                                                 "keras+torch"))
    return run


def significance_rows(out: str) -> dict[str, list[str]]:
    """The significance table (runs as columns, in the order compared): its row label -> one cell per tested run."""
    section = out[out.index("Significance on the test split"):]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        line = line.replace("┃", "│")  # the header row's rule
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        rows.setdefault(cells[0], cells[1:])  # the header's label is "" (on a wide terminal, one line)
    return rows


def test_compare_reports_mcnemar_and_the_interval_for_each_run_against_the_first(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 7, 400)
    good = rng.random(400) < 0.9
    fake_run(tmp_path, "good", good, labels)
    fake_run(tmp_path, "worse", rng.random(400) < 0.5, labels)
    fake_run(tmp_path, "same", good.copy(), labels)
    fake_run(tmp_path, "old", None, labels)
    fake_run(tmp_path, "elsewhere", good.copy(), labels, fingerprint="another dataset")
    code, out, err = run_cli(capsys, "runs", "compare", "good", "worse", "same", "old", "elsewhere", "--runs", str(tmp_path),
                             "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    rows = significance_rows(out)
    assert rows[""] == ["worse", "same"]  # the header: the runs tested, not those without predictions on these faces
    (worse_p, same_p), (worse_test, same_test) = rows["McNemar p"], rows["McNemar test"]
    assert float(same_p) == 1.0 and same_test == "exact" and rows["right only: first / this"][1] == "0 / 0"
    assert rows["difference [95% CI]"][1] == "+0.00 [+0.00, +0.00]"
    assert float(worse_p) < 0.01 and worse_test == "chi-squared cc" and rows["difference [95% CI]"][0].startswith("-")
    assert rows["evaluated by"] == ["keras+torch", "keras+torch"]
    text = " ".join(out.split())
    assert "No significance test for old: old has no per-face test predictions" in text
    assert f"emokit evaluate {tmp_path / 'old'}" in text
    assert "No significance test for elsewhere: elsewhere's test predictions are not on the same faces as good's" in text


def test_compare_says_why_when_the_first_run_has_no_predictions(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    labels = np.zeros(10, np.int64)
    fake_run(tmp_path, "old", None, labels)
    fake_run(tmp_path, "new", np.ones(10, bool), labels)
    code, out, err = run_cli(capsys, "runs", "compare", "old", "new", "--runs", str(tmp_path), "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    assert "No significance test: old has no per-face test predictions" in " ".join(out.split())
    assert "Significance on the test split" not in out


# -- real tiny runs ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worse_run(tmp_path_factory) -> Run:
    """A run trained to be clearly worse than ``trained_run`` on the same faces: one epoch at a tiny learning rate."""
    from rich.console import Console

    from conftest import TINY_TRAINING
    from emokit.registry import build_registry
    from emokit.training.trainer import train

    root = tmp_path_factory.mktemp("worse-runs")
    return train(TrainConfig(**{**TINY_TRAINING, "epochs": 1, "lr": 1e-5}), build_registry(), root=root,
                 console=Console(quiet=True))


@pytest.mark.slow
def test_training_keeps_predictions_and_compare_tests_real_runs(trained_run, worse_run, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "250")
    for run in (trained_run, worse_run):
        kept = read_predictions(run.predictions_dir / "test.npz")
        assert kept.evaluator == "keras+torch"
        assert kept.accuracy == pytest.approx(run.metrics()["splits"]["test"]["accuracy"])
        assert (run.predictions_dir / "val.npz").is_file()
    code, out, err = run_cli(capsys, "runs", "compare", str(trained_run.path), str(trained_run.path), str(worse_run.path),
                             "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    rows = significance_rows(out)
    assert rows[""] == [trained_run.name, worse_run.name], out
    itself, worse = rows["McNemar p"]
    assert float(itself) == 1.0 and rows["difference [95% CI]"][0] == "+0.00 [+0.00, +0.00]", out
    assert float(worse) < 0.01, out
    print(json.dumps(rows))  # the figures, for the record (pytest -s)


@pytest.mark.slow
def test_evaluate_writes_the_predictions_an_older_run_lacks(trained_run, worse_run, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "250")
    older = Run(shutil.copytree(worse_run.path, tmp_path / worse_run.name, ignore=shutil.ignore_patterns("checkpoint")))
    shutil.rmtree(older.predictions_dir)  # as a run trained before predictions were kept
    code, out, err = run_cli(capsys, "runs", "compare", str(trained_run.path), str(older.path), "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    assert f"emokit evaluate {older.path}" in " ".join(out.split())
    code, out, err = run_cli(capsys, "evaluate", str(older.path))
    assert code == 0, err
    assert "Per-face predictions" in out and (older.predictions_dir / "test.npz").is_file()
    code, out, err = run_cli(capsys, "runs", "compare", str(trained_run.path), str(older.path), "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    rows = significance_rows(out)
    assert rows[""] == [older.name] and float(rows["McNemar p"][0]) < 0.01, out
