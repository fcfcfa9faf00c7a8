"""A real sweep on the synthetic faces: six trials with a pruner that prunes, stopped by Ctrl-C part-way and
resumed by rerunning the same command, on the default storage (SQLite in the runs folder); then `emokit
sweep show`. Every trial is an ordinary run folder tagged with its study and trial number.

Real Optuna, real training (small_cnn at 24x24 on the torch backend, 3 epochs a trial), real signals.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
optuna = pytest.importorskip("optuna")

#: lr 1e-6 leaves a trial at chance: below the median of the others after an epoch, so the pruner stops it.
SPACE = """
[lr]
type = "categorical"
choices = [1e-6, 3e-3]

["set.width"]
type = "categorical"
choices = [0.25, 0.5]
"""
TRIALS = 6


def sweep_command(space: Path, root: Path) -> list[str]:
    return [sys.executable, "-m", "emokit", "sweep", "--space", str(space), "--trials", str(TRIALS), "--sampler", "random",
            "--arch", "small_cnn", "--epochs", "3", "--patience", "3", "--image-size", "24", "--backend", "torch",
            "--out", str(root)]


def finished(storage: str) -> int:
    try:
        (summary,) = optuna.get_all_study_summaries(storage)
    except ValueError:
        return 0
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    return len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)))


def test_a_sweep_prunes_is_interrupted_and_resumes_with_the_same_command(tmp_path):
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    root = tmp_path / "runs"
    storage = f"sqlite:///{root / 'sweeps.db'}"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    command = sweep_command(space, root)

    # Interrupted after two trials finished, as a user's Ctrl-C.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 600
    while (root / "sweeps.db").exists() is False or finished(storage) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "two trials did not finish in 10 minutes"
        time.sleep(1)
    time.sleep(3)  # into the third trial
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode != 0, out[-2000:]
    assert "Rerun the same command to continue the sweep." in err, err[-2000:]
    before = finished(storage)
    assert 2 <= before < TRIALS

    # The same command continues the same study up to six finished trials.
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{before} of {TRIALS} trials finished, continuing." in done.stdout
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) + states.count(optuna.trial.TrialState.PRUNED) == TRIALS
    assert optuna.trial.TrialState.PRUNED in states, states
    # The trial Ctrl-C stopped is not counted: failed, or (when the process ended at once) left running until its
    # heartbeat is stale, when Optuna fails it. A signal that lands as a trial is finishing lets it finish.
    assert states.count(optuna.trial.TrialState.FAIL) + states.count(optuna.trial.TrialState.RUNNING) <= 1, states

    # Every trial that ran is an ordinary run folder, tagged with its study and number; pruned ones say why they stopped.
    for trial in study.trials:
        if "run" not in trial.user_attrs:
            continue
        run = Path(trial.user_attrs["run"])
        config = json.loads((run / "config.json").read_text())
        assert (config["study"], config["trial"]) == (study.study_name, trial.number)
        if trial.state == optuna.trial.TrialState.PRUNED:
            assert json.loads((run / "metrics.json").read_text())["stopped_by"].startswith(f"pruned by sweep {study.study_name}")
    assert study.best_trial.params["lr"] == 3e-3

    # `emokit sweep show`: the table, the best trial as a command, the plots.
    shown = subprocess.run([sys.executable, "-m", "emokit", "sweep", "show", "--runs", str(root)], capture_output=True,
                           text=True, env=env, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert f"Sweep {study.study_name}" in shown.stdout and "pruned" in shown.stdout and "complete" in shown.stdout
    assert "Best trial, as a command:\n  emokit train --arch small_cnn --epochs 3 --set width=" in shown.stdout
    assert (root / "sweeps" / f"{study.study_name}.history.png").stat().st_size > 1000


def test_two_workers_share_one_study_and_no_trial_runs_twice(tmp_path):
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    root = tmp_path / "runs"
    command = [*sweep_command(space, root), "--workers", "2"]
    command[command.index("--trials") + 1] = "4"
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
                          timeout=1200)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "[worker 1]" in done.stdout and "[worker 2]" in done.stdout
    (summary,) = optuna.get_all_study_summaries(f"sqlite:///{root / 'sweeps.db'}")
    trials = optuna.load_study(study_name=summary.study_name, storage=f"sqlite:///{root / 'sweeps.db'}").trials
    finished = [t for t in trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(finished) >= 4  # workers stop once 4 have finished; one may finish a trial it had started
    runs = [t.user_attrs["run"] for t in trials if "run" in t.user_attrs]
    assert len(runs) == len(set(runs)) and len({t.number for t in trials}) == len(trials)
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both processes ran trials


@pytest.mark.skipif(not os.environ.get("EMOKIT_TEST_POSTGRES"), reason="no PostgreSQL server: .ci/run starts one (.ci/start-postgres)")
def test_two_machines_share_one_study_through_postgresql(tmp_path):
    """As two machines would: two separate `emokit sweep` commands, each with its own runs folder, on one study in a
    real PostgreSQL server; together they finish the trials, and no trial is run twice."""
    pytest.importorskip("psycopg2")
    url = os.environ["EMOKIT_TEST_POSTGRES"]
    name = f"shared-{tmp_path.name}-{os.getpid()}"
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}
    machines = []
    for machine in ("a", "b"):
        command = [*sweep_command(space, tmp_path / machine), "--storage", url, "--study", name]
        command[command.index("--trials") + 1] = "4"
        machines.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env))
    outputs = [process.communicate(timeout=1200)[0] for process in machines]
    assert [process.returncode for process in machines] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    trials = optuna.load_study(study_name=name, storage=url).trials
    finished = [t for t in trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(finished) >= 4
    runs = [Path(t.user_attrs["run"]) for t in trials if "run" in t.user_attrs]
    assert len(runs) == len(set(runs)) == len(trials)  # one run per trial, none twice
    assert {run.parent.name for run in runs} == {"a", "b"}  # both machines ran trials of the one study
    assert len({t.user_attrs["worker"] for t in trials}) == 2
