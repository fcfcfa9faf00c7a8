"""``run_sweep``: open (or resume) a study and run its remaining trials, each an ``emokit train`` run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from emokit.errors import EmokitError
from emokit.registry import Registry
from emokit.sweep.space import SearchSpace
from emokit.sweep.study import Objective, SweepSettings, default_storage, finished_trials, open_study, study_name
from emokit.training.config import TrainConfig

#: How a stopped sweep goes on, said wherever it stops.
CONTINUE = "Rerun the same command to continue the sweep."


def start_study(base: TrainConfig, space: SearchSpace, space_text: str, settings: SweepSettings, root: Path, *,
                storage: str | None = None, name: str | None = None) -> tuple[Any, str, str]:
    """(study, its name, its storage URL): the command's study opened, or created with what it searches recorded
    (for ``emokit sweep show``). The name defaults to the command's, the storage to the runs folder's file."""
    settings.check()
    root.mkdir(parents=True, exist_ok=True)
    name = name or study_name(base, space_text)
    url = storage or default_storage(root)
    study = open_study(name, url, settings, space)  # the sampler is seeded with the trials already there (see open_study)
    if not study.user_attrs:
        study.set_user_attr("base", base.to_dict())
        study.set_user_attr("space", space_text)
    return study, name, url


def run_sweep(base: TrainConfig, space: SearchSpace, space_text: str, settings: SweepSettings, registry: Registry,
              root: Path, console: Console, *, storage: str | None = None, name: str | None = None,
              stops: Any = None) -> Any:
    """Run the study's trials until ``settings.trials`` have finished (complete or pruned), counting those of earlier
    runs of the same command and of other workers on the same storage; returns the Optuna study.

    A diverging trial fails and the sweep goes on; Ctrl-C or SIGTERM stops the sweep (the trial's run is kept,
    the trial is failed), and rerunning the same command continues it.
    """
    import optuna  # noqa: PLC0415

    from emokit.training.callbacks import TrainingDiverged  # noqa: PLC0415
    from emokit.training.trainer import TrainingInterrupted, train  # noqa: PLC0415

    study, name, url = start_study(base, space, space_text, settings, root, storage=storage, name=name)
    done = finished_trials(study)
    console.print(f"Sweep [bold]{name}[/] ({url}): {done} of {settings.trials} trials finished"
                  + (", continuing." if done else "."), highlight=False)
    if done >= settings.trials:
        return study
    finished = optuna.study.MaxTrialsCallback(settings.trials, states=(optuna.trial.TrialState.COMPLETE,
                                                                       optuna.trial.TrialState.PRUNED))

    def said(study: Any, trial: Any) -> None:
        value = f" val accuracy {trial.value:.4f}" if trial.value is not None else ""
        if trial.state == optuna.trial.TrialState.FAIL:  # a diverged training: the sweep goes on
            value = f" ({trial.system_attrs.get('fail_reason', 'no reason recorded')})"
        console.print(f"trial {trial.number}: {trial.state.name.lower()}{value} ({finished_trials(study)} of {settings.trials} finished)",
                      highlight=False)

    if stops is not None:  # a second Ctrl-C ends the process at once: its last line says how to go on
        stops.exit_note = f"Sweep {name}: {CONTINUE}"
    objective = Objective(base, space, registry, root, console, train, stops)
    try:
        study.optimize(objective, n_trials=settings.trials - done, catch=(TrainingDiverged,), callbacks=[finished, said],
                       gc_after_trial=True)
    except (TrainingInterrupted, KeyboardInterrupt):  # during a trial (its run is kept), or between two
        raise EmokitError(f"Sweep {name} stopped ({finished_trials(study)} of {settings.trials} trials finished; the "
                          f"interrupted trial counts as failed). {CONTINUE}") from None
    return study
