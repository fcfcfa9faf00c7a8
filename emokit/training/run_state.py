"""A training's bookkeeping in its run folder: the folder itself, ``status.json``, the interrupt
messages, resuming, and ``metadata.json`` (what trained the run, with which versions and timings).

The trainer (:mod:`emokit.training.trainer`) decides what happens; this module writes down where
it stands, so that ``emokit runs``, a resume and a stop from the signal watcher all read the same.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
import os
import platform
import socket
from pathlib import Path
from typing import Any

import emokit
from emokit.atomic import remove_stale_temps, write_json
from emokit.backend import environment_for
from emokit.errors import EmokitError
from emokit.records import BackendRecord, Dataset
from emokit.registry import Registry
from emokit.runs import Run
from emokit.spec import ModelSpec
from emokit.training.config import TrainConfig


def new_run_dir(config: TrainConfig, root: Path, backend: str) -> Run:
    """A fresh, uniquely named run directory: ``<time>-<arch>-<backend>``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / f"{stamp}-{config.arch}-{backend}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    path.mkdir(parents=True)
    return Run(path)


class RunState:
    """Where a training stands (its run once created, the phase, the checkpoint state) and how to say it.

    The interrupt messages and ``status.json`` follow from it, whether the stop came in order
    (``KeyboardInterrupt`` in the main thread) or at once from the signal watcher.
    """

    def __init__(self, resume: Run | None) -> None:
        self.run = resume
        self.resumed = resume is not None
        self.phase = "setup"  # setup -> training -> evaluation
        self.state: dict[str, Any] = {"epoch": 0}

    def mark(self, name: str, **extra: Any) -> None:
        """Write ``status.json``: the state name, the epoch reached and, while running, who runs it."""
        if self.run is None:
            return
        status: dict[str, Any] = {"state": name, "epoch": self.state["epoch"], **extra,
                                  "updated": dt.datetime.now().isoformat(timespec="seconds")}
        if name == "running":
            status.update(pid=os.getpid(), host=socket.gethostname())
        write_json(self.run.status_file, status)

    def interrupted(self) -> str:
        """Mark the run interrupted (when it exists) and say what was kept and what to do next."""
        if self.run is None:
            return "Training interrupted before it started; no run was written."
        resume = f"emokit train --resume {self.run.path}"
        epoch = self.state["epoch"]
        if self.phase == "setup" and self.resumed:
            return f"Interrupted before training restarted; run {self.run.name} is unchanged. Resume with: {resume}"
        self.mark("interrupted", phase=self.phase)
        if self.phase == "evaluation":
            return (f"Interrupted during the final evaluation; the trained weights (epoch {epoch}) are kept. "
                    f"Finish the run with: {resume} (it only evaluates)")
        if epoch == 0:
            return (f"Training interrupted during epoch 1, before the first checkpoint: there is nothing to resume from. "
                    f"Restart the run with: {resume} (it starts again from epoch 1)")
        return f"Training interrupted after epoch {epoch}; its checkpoint is kept. Resume with: {resume}"

    def failed(self, reason: str) -> None:
        """Mark the run failed, with the phase it failed in and the one-line reason."""
        self.mark("failed", phase=self.phase, reason=reason)


def check_resumable(run: Run) -> None:
    """Refuse a run another live process is training; delete the temp files a killed one left behind."""
    status = run.status()
    if status.get("state") == "running":
        raise EmokitError(f"Run '{run.name}' is being trained by process {status.get('pid')} on {status.get('host')}; "
                          "stop it first (Ctrl-C or kill), then resume.")
    remove_stale_temps(run.path)


def apply_resume_settings(state: dict[str, Any], config: TrainConfig) -> None:
    """Fit a restored state to the settings a resume may change: more epochs, another patience."""
    if config.epochs < state["epoch"]:
        raise EmokitError(f"--epochs {config.epochs} is fewer than the {state['epoch']} epochs this run has done; "
                          f"give --epochs {state['epoch']} or more.")
    # A run stopped early trains on when a larger --patience or --epochs gives it room again.
    if state.get("stopped_early") and state["epoch"] - state["best_epoch"] < config.patience:
        state["stopped_early"] = False


def _plugin_entry(registry: Registry, kind: str, name: str) -> dict[str, str]:
    """The plugin that provided a record: its name, its distribution and that distribution's version."""
    info = registry.provider(kind, name)
    try:
        version = importlib.metadata.version(info.package)
    except (importlib.metadata.PackageNotFoundError, ValueError):  # a plugin added in-process has no distribution
        version = "?"
    return {"plugin": info.name, "package": info.package, "version": version}


def write_metadata(run: Run, config: TrainConfig, dataset: Dataset, registry: Registry, backend: BackendRecord,
                    spec: ModelSpec, keras: Any, timings: dict[str, float]) -> None:
    """Write ``metadata.json``: versions, machine, dataset, the plugins used and the timings so far."""
    used = [("architecture", config.arch), *(("augmentation", name) for name, _ in config.augmentations)]
    plugins = {(kind if kind == "architecture" else f"augmentation:{name}"): _plugin_entry(registry, kind, name)
               for kind, name in used}
    backend_module = importlib.import_module(backend.module)
    # The settings the backend may apply, as this process has them: a kernel cap changes speed.
    settings = sorted({*environment_for(backend), *environment_for(backend, spec)})
    write_json(run.metadata_file, {
        "emokit": emokit.__version__, "keras": keras.__version__, "backend": backend.name,
        "backend_version": getattr(backend_module, "__version__", "?"), "python": platform.python_version(),
        "environment": {key: os.environ.get(key) for key in settings},
        "machine": platform.machine(), "dataset": dataset.name, "dataset_source": dataset.source,
        "dataset_fingerprint": dataset.fingerprint, "class_names": list(dataset.class_names),
        "split_sizes": {s: len(d) for s, d in dataset.splits.items()}, "seed": config.seed,
        "data_seed": config.split_seed, "group": config.group,
        "plugins": plugins, "timings": timings, "updated": dt.datetime.now().isoformat(timespec="seconds"),
    })
