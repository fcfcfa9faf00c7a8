"""Issue #21, seeds: ``emokit train --seeds N`` trains one configuration with N seeds as a group, on one
data split; ``emokit runs`` and ``emokit runs compare`` show the group's mean ± std.

The group's bookkeeping and its tables are checked on run folders written here (fast); a real
``--seeds 2`` training on the synthetic faces is the slow test.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

from cli_utils import run_cli
from emokit.atomic import write_json
from emokit.errors import EmokitError
from emokit.run_groups import find_group, group_of, spread
from emokit.runs import Run, list_runs
from emokit.training.config import TrainConfig
from emokit.training.seeds import group_configs


def test_a_group_varies_the_seed_and_keeps_the_data_seed():
    configs = group_configs(TrainConfig(seed=5, epochs=2), 3, "g")
    assert [c.seed for c in configs] == [5, 6, 7]
    assert {c.split_seed for c in configs} == {5} and {c.group for c in configs} == {"g"}
    assert {c.epochs for c in configs} == {2}
    # The group survives config.json (a resume reads it back).
    assert TrainConfig.from_dict(configs[1].to_dict()) == configs[1]
    # A config from before groups draws its data with its own seed.
    assert TrainConfig.from_dict({"seed": 3}).split_seed == 3 and TrainConfig.from_dict({"seed": 3}).group is None
    with pytest.raises(EmokitError, match="--seeds must be at least 1"):
        group_configs(TrainConfig(), 0, "g")


def test_spread_is_the_mean_and_the_sample_std():
    found = spread([0.9, 0.92, None, 0.94])
    assert found.count == 3 and found.mean == pytest.approx(0.92) and found.std == pytest.approx(statistics.stdev([0.9, 0.92, 0.94]))
    assert spread([0.5]).std is None and spread([None]) is None


def group_run(root: Path, name: str, group: str | None, seed: int, val: float, test: float) -> Run:
    """A finished run's files as training leaves them (nothing here loads weights)."""
    run = Run(root / name)
    run.path.mkdir(parents=True)
    write_json(run.config_file, TrainConfig(epochs=2, seed=seed, data_seed=0 if group else None, group=group).to_dict())
    run.history_file.write_text(f"epoch,loss,accuracy,val_loss,val_accuracy\n0,1.5,0.4,1.4,0.3\n1,1.0,0.7,0.9,{val}\n")
    write_json(run.metrics_file, {"dataset": "synthetic", "splits": {"test": {"accuracy": test, "macro_f1": test - 0.1}}})
    write_json(run.metadata_file, {"dataset": "synthetic", "timings": {"total_s": 60 + seed}})
    write_json(run.status_file, {"state": "completed", "epoch": 2})
    return run


@pytest.fixture
def grouped(tmp_path) -> Path:
    for seed, (val, test) in enumerate([(0.80, 0.90), (0.82, 0.92), (0.84, 0.94)]):
        group_run(tmp_path, f"20261207-12000{seed}-small_cnn-torch", "20261207-120000-small_cnn-seeds", seed, val, test)
    group_run(tmp_path, "20261207-130000-small_cnn-torch", None, 0, 0.5, 0.6)
    return tmp_path


def test_runs_lists_a_group_with_its_mean_and_std(grouped, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, "runs", "--runs", str(grouped))
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("20261207-120000-small_cnn-seeds"))
    cells = row.split()
    # best val acc 82.00 ± 2.00%, test acc 92.00 ± 2.00%, over seeds 0-2 (sample std of 0.80, 0.82, 0.84 is 0.02)
    assert "0-2" in cells and "synthetic" in cells
    assert re.search(r"82\.00 ± 2\.00%.*92\.00 ± 2\.00%", row), row
    assert "mean ± sample std" in out


@pytest.mark.parametrize("columns", [80, 120])
def test_runs_with_groups_still_shows_every_name_whole(grouped, capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, _ = run_cli(capsys, "runs", "--runs", str(grouped))
    assert code == 0
    for run in list_runs(grouped):
        assert any(run.name in line for line in out.splitlines()), out
    assert any("20261207-120000-small_cnn-seeds" in line for line in out.splitlines()), out


def test_compare_takes_a_group_by_name(grouped, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli(capsys, "runs", "compare", "20261207-120000-small_cnn-seeds", "20261207-130000-small_cnn-torch",
                             "--runs", str(grouped), "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    rows = {cells[0]: cells[1:] for line in out.splitlines() if "│" in line
            for cells in [[cell.strip() for cell in line.strip().strip("│").split("│")]]}
    assert rows["seed"] == ["0, 1, 2", "0"]
    assert rows["test acc"] == ["92.00 ± 2.00% (synthetic)", "60.00% (synthetic)"]
    assert rows["best val acc"][0] == "82.00 ± 2.00% (synthetic)"
    assert "3 runs" in out
    assert "No McNemar test for seed groups" in " ".join(out.split())
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert [r.name for r in find_group("20261207-120000-small_cnn-seeds", grouped)] == [
        f"20261207-12000{seed}-small_cnn-torch" for seed in range(3)]


def test_seeds_below_one_is_refused(capsys):
    code, _, err = run_cli(capsys, "train", "--seeds", "0")
    assert code == 2 and "--seeds must be at least 1, got 0." in err


@pytest.mark.slow
def test_train_with_two_seeds_makes_one_group_on_one_data_split(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, "train", "--seeds", "2", "--epochs", "1", "--backend", "torch", "--set", "width=0.5",
                             "--set", "dense_units=128", "--seed", "4", "--out", str(tmp_path))
    assert code == 0, err
    runs = list_runs(tmp_path)
    assert len(runs) == 2
    group = group_of(runs[0])
    assert group and group_of(runs[1]) == group and group in out
    assert sorted(r.config()["seed"] for r in runs) == [4, 5]
    assert {r.config()["data_seed"] for r in runs} == {4} and {r.metadata()["data_seed"] for r in runs} == {4}
    code, out, err = run_cli(capsys, "runs", "--runs", str(tmp_path))
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith(group))
    assert row.count("±") == 2 and "4-5" in row, out
    # Both runs were tested on the same faces: McNemar's test applies between them.
    code, out, err = run_cli(capsys, "runs", "compare", runs[0].name, runs[1].name, "--runs", str(tmp_path),
                             "--out", str(tmp_path / "c.png"))
    assert code == 0, err
    assert "Significance on the test split" in out and "No significance test" not in out
