"""Run a sweep: an Optuna study whose trials are ordinary emokit runs.

Each trial applies the search space's values to the base ``emokit train`` settings, trains a run
(tagged with the study's name and the trial's number in its ``config.json``), reports the validation
accuracy after every epoch so Optuna's pruner can stop a poor trial early (the run then ends with
``stopped_by`` in its metrics and counts as pruned), and scores the trial by its best validation
accuracy. The test split is never looked at to choose anything.

The study lives in Optuna's storage: by default an SQLite file in the runs folder, so rerunning the
same command resumes it (the study is named after the command); ``--storage postgresql://...`` lets
any number of workers on any number of machines share one study, through Optuna's own design.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from emokit.errors import EmokitError
from emokit.registry import Registry
from emokit.sweep.space import SearchSpace
from emokit.training.config import TrainConfig

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "none")
#: The default storage: this SQLite file in the runs folder.
STORAGE_FILE = "sweeps.db"
#: Seconds between a running trial's heartbeats; a trial silent for GRACE_S (its worker was killed) is failed.
HEARTBEAT_S = 30
GRACE_S = 120
#: Attempts to open a new database that other workers are setting up at the same moment.
SCHEMA_TRIES = 4


@dataclass(frozen=True)
class SweepSettings:
    """How a study searches: ``trials`` finished (complete or pruned) trials in all, the sampler and its seed,
    the pruner (``warmup_epochs`` before a trial may be pruned, after ``startup_trials`` trials finished)."""

    trials: int
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int = 0
    warmup_epochs: int = 1
    startup_trials: int = 2
    #: Which of ``--workers`` this process is (0: the only one); offsets the sampler's seed.
    worker: int = 0

    def check(self) -> SweepSettings:
        """This, or a one-line error naming the option."""
        if self.trials < 1:
            raise EmokitError(f"--trials must be at least 1, got {self.trials}.")
        if self.sampler not in SAMPLERS:
            raise EmokitError(f"Unknown sampler '{self.sampler}'. Available: {', '.join(SAMPLERS)}.")
        if self.pruner not in PRUNERS:
            raise EmokitError(f"Unknown pruner '{self.pruner}'. Available: {', '.join(PRUNERS)}.")
        return self


def default_storage(root: Path) -> str:
    """The SQLite URL of the runs folder's sweep file."""
    return f"sqlite:///{(Path(root) / STORAGE_FILE).resolve()}"


def study_name(base: TrainConfig, space_text: str) -> str:
    """The study's name for this command: the architecture and a digest of the base settings and the space
    file, so the same command finds (and resumes) the same study."""
    digest = hashlib.sha256(json.dumps({"base": base.to_dict(), "space": space_text}, sort_keys=True).encode()).hexdigest()
    return f"{base.arch}-{digest[:8]}"


def make_storage(url: str) -> Any:
    """Optuna's storage for ``url``; SQL databases get heartbeats, so a killed worker's trial is failed and retried."""
    import optuna  # noqa: PLC0415

    if not url.startswith(("sqlite:", "postgresql", "mysql")):
        return url
    for attempt in range(SCHEMA_TRIES):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna: a warning on every start
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S)
        except Exception as exc:
            # Workers started together on a new database all create Optuna's tables; all but one lose that race
            # (a duplicate key or "already exists"). The tables are there now: open it again.
            if attempt + 1 == SCHEMA_TRIES or not _lost_schema_race(exc):
                raise
            time.sleep(0.5 + random.random())
    raise AssertionError("unreachable")


def _lost_schema_race(exc: Exception) -> bool:
    """Whether ``exc`` is SQLAlchemy's error for tables another worker created at the same moment."""
    text = str(exc).lower()
    return type(exc).__module__.startswith("sqlalchemy") and ("duplicate key" in text or "already exists" in text)


def make_sampler(settings: SweepSettings, space: SearchSpace, earlier: int = 0) -> Any:
    """The Optuna sampler named by the settings, seeded with ``settings.seed`` plus the ``earlier`` trials of the
    study: a resumed sweep draws new values (a random sampler reseeded alike would repeat its first draws)
    and the same command on the same study still draws the same ones."""
    import optuna  # noqa: PLC0415

    seed = settings.seed + earlier + 7919 * settings.worker  # workers started together draw apart
    if settings.sampler == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(settings: SweepSettings) -> Any:
    """The Optuna pruner named by the settings: ``median`` stops a trial whose validation accuracy is below the
    median of earlier trials at the same epoch."""
    import optuna  # noqa: PLC0415

    if settings.pruner == "none":
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=settings.startup_trials, n_warmup_steps=settings.warmup_epochs)


def open_study(name: str, storage: str, settings: SweepSettings, space: SearchSpace) -> Any:
    """The study ``name`` in ``storage``, created if new, loaded if it exists (a resumed sweep)."""
    import optuna  # noqa: PLC0415

    try:
        backend = make_storage(storage)
        try:
            earlier = len(optuna.load_study(study_name=name, storage=backend).get_trials(deepcopy=False))
        except KeyError:  # a new study
            earlier = 0
        return optuna.create_study(study_name=name, storage=backend, sampler=make_sampler(settings, space, earlier),
                                   pruner=make_pruner(settings), direction="maximize", load_if_exists=True)
    except (ImportError, ModuleNotFoundError) as exc:
        raise EmokitError(f"Storage '{storage}' needs a driver that is not installed ({exc}).") from None
    except Exception as exc:  # SQLAlchemy's errors for a bad URL or an unreachable server: one line
        if type(exc).__module__.startswith(("sqlalchemy", "optuna")):
            raise EmokitError(f"Cannot open the sweep storage '{storage}': {str(exc).splitlines()[0]}") from None
        raise


def finished_trials(study: Any) -> int:
    """Trials that count toward ``--trials``: complete or pruned (failed and interrupted ones do not)."""
    import optuna  # noqa: PLC0415

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def trial_config(base: TrainConfig, space: SearchSpace, trial: Any) -> TrainConfig:
    """The training of ``trial``: the base settings with the space's values, tagged with the study and trial."""
    values = {parameter.name: parameter.suggest(trial) for parameter in space.parameters}
    return dataclasses.replace(space.apply(base, values), study=trial.study.study_name, trial=trial.number)


def pruning_listener(trial: Any) -> Callable[[int, dict[str, float]], str | None]:
    """An epoch listener (see :func:`emokit.training.trainer.train`) that reports validation accuracy to Optuna
    and gives the reason to stop when the pruner says this trial is not worth finishing."""

    def report(epoch: int, logs: dict[str, float]) -> str | None:
        accuracy = logs.get("val_accuracy")
        if accuracy is None:
            return None
        trial.report(accuracy, epoch)
        if trial.should_prune():
            return f"pruned by sweep {trial.study.study_name} (trial {trial.number}) after epoch {epoch}: val accuracy {accuracy:.3f}"
        return None

    return report


def best_val_accuracy(history: dict[str, list[float]]) -> float:
    """A run's best validation accuracy over its epochs (the trial's score)."""
    values = history.get("val_accuracy") or []
    if not values:
        raise EmokitError("The trial's run has no validation accuracy (it trained no epoch).")
    return max(values)


class Objective:
    """Optuna's objective: one trial is one ``emokit train`` run (``train`` is emokit's trainer, passed in)."""

    def __init__(self, base: TrainConfig, space: SearchSpace, registry: Registry, root: Path, console: Console,
                 train: Callable[..., Any], stops: Any = None) -> None:
        self.base, self.space, self.registry, self.root = base, space, registry, root
        self.console, self.train, self.stops = console, train, stops

    def __call__(self, trial: Any) -> float:
        import optuna  # noqa: PLC0415

        from emokit.sweep.commands import train_command_line  # noqa: PLC0415

        config = trial_config(self.base, self.space, trial)
        trial.set_user_attr("command", train_command_line(config))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")  # which machine and process ran it
        self.console.rule(f"trial {trial.number}: " + ", ".join(f"{k}={v}" for k, v in trial.params.items()))
        run = self.train(config, self.registry, root=self.root, console=self.console, stops=self.stops,
                         listeners=[pruning_listener(trial)])
        trial.set_user_attr("run", str(run.path))
        test = (run.metrics().get("splits") or {}).get("test") or {}
        if "accuracy" in test:
            trial.set_user_attr("test_accuracy", float(test["accuracy"]))
        stopped_by = run.metrics().get("stopped_by")
        if stopped_by:
            raise optuna.TrialPruned(stopped_by)
        return best_val_accuracy(run.history())
