"""Trials per hour of one sweep with ``--workers 1`` against ``--workers 2`` on this machine (issue #21).

The same small sweep (small_cnn on the synthetic faces at 24x24, 3 epochs a trial, lr and width searched,
random sampler, no pruner so every trial trains fully) runs twice, each into its own fresh runs folder
and study: once with one worker (all cores), once with two (each given half the cores by
``emokit.sweep.workers.thread_environment``). Wall time of the whole command, trials finished, and
trials per hour. Results: ``.benchmarks/bench_sweep.json``.

    python benchmarks/bench_sweep.py                    # 8 trials each
    python benchmarks/bench_sweep.py --trials 12 --backend tensorflow
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_sweep.py  # 2 trials, 1 epoch: that it runs
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import command_line, fast, load_snapshot, write_results  # puts the repo on sys.path

SPACE = """
[lr]
type = "float"
low = 1e-4
high = 3e-3
log = true

["set.width"]
type = "categorical"
choices = [0.25, 0.5]
"""


def run(workers: int, trials: int, epochs: int, backend: str, folder: Path) -> dict:
    """One sweep: wall seconds and trials finished."""
    import optuna

    space = folder / "space.toml"
    space.write_text(SPACE)
    root = folder / f"runs-{workers}"
    command = [sys.executable, "-m", "emokit", "sweep", "--space", str(space), "--trials", str(trials), "--sampler", "random",
               "--pruner", "none", "--workers", str(workers), "--arch", "small_cnn", "--epochs", str(epochs),
               "--patience", str(epochs), "--image-size", "24", "--backend", backend, "--out", str(root)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=3600)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sweep with {workers} workers failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    storage = f"sqlite:///{root / 'sweeps.db'}"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    finished = sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)
    return {"workers": workers, "wall_s": round(wall, 1), "trials": finished,
            "trials_per_hour": round(finished / wall * 3600, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2 if fast() else 8)
    parser.add_argument("--epochs", type=int, default=1 if fast() else 3)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="emokit-bench-sweep-") as folder:
        for workers in (1, 2):
            rows.append(run(workers, args.trials, args.epochs, args.backend, Path(folder)))
            print(rows[-1], flush=True)
    speedup = rows[1]["trials_per_hour"] / rows[0]["trials_per_hour"] if rows[0]["trials_per_hour"] else None
    path = write_results("bench_sweep", {"command": command_line("bench_sweep.py"), "rows": rows,
                                         "speedup_2_workers": round(speedup, 3) if speedup else None,
                                         "load": load_snapshot()}, args.out)
    print(f"2 workers / 1 worker: {speedup:.2f}x trials per hour; {path}")


if __name__ == "__main__":
    main()
