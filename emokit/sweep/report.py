"""``emokit sweep show``: a study's trials as a table, its best trial as a command, and Optuna's plots as PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from emokit.errors import EmokitError


def study_names(storage: Any) -> list[str]:
    """The studies in ``storage``, oldest first."""
    import optuna  # noqa: PLC0415

    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    summaries.sort(key=lambda s: (s.datetime_start is None, s.datetime_start or 0))
    return [s.study_name for s in summaries]


def load_study(storage: Any, name: str | None) -> Any:
    """The study ``name`` (default: the newest) in ``storage``, or a one-line error listing the studies there are."""
    import optuna  # noqa: PLC0415

    names = study_names(storage)
    if not names:
        raise EmokitError("No sweeps yet in this storage: run one with emokit sweep --space space.toml --trials N.")
    if name is None:
        name = names[-1]
    if name not in names:
        raise EmokitError(f"No sweep named '{name}'. Sweeps: {', '.join(names)}.")
    return optuna.load_study(study_name=name, storage=storage)


def _seconds(trial: Any) -> str:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return "-"
    seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"


def trials_table(study: Any) -> Table:
    """Every trial: its parameters, state, best validation accuracy (the score), test accuracy, wall time, run."""
    trials = study.get_trials(deepcopy=False)
    params = list(dict.fromkeys(name for trial in trials for name in trial.params))
    table = Table(title=f"Sweep {study.study_name}", title_justify="left")
    for column in ("trial", *params, "state", "best val acc", "test acc", "wall", "run"):
        table.add_column(column, justify="left" if column in ("state", "run") else "right", overflow="fold")
    best = _best_number(study)
    for trial in trials:
        value = trial.value if trial.value is not None else max(trial.intermediate_values.values(), default=None)
        test = trial.user_attrs.get("test_accuracy")
        cells = [str(trial.number), *(_cell(trial.params.get(p)) for p in params), trial.state.name.lower(),
                 f"{value:.2%}" if value is not None else "-", f"{test:.2%}" if test is not None else "-",
                 _seconds(trial), Path(trial.user_attrs.get("run", "-")).name]
        table.add_row(*cells, style="bold green" if trial.number == best else None)
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _best_number(study: Any) -> int | None:
    try:
        return study.best_trial.number
    except ValueError:  # no complete trial yet
        return None


def best_command(study: Any) -> str | None:
    """The ``emokit train`` command that reruns the best trial, or None before any trial completed."""
    number = _best_number(study)
    return None if number is None else study.trials[number].user_attrs.get("command")


def write_plots(study: Any, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Optuna's optimisation history, parameter importances and parallel coordinates as PNGs in ``out_dir``;
    returns (written, why each plot that could not be drawn was skipped)."""
    import warnings  # noqa: PLC0415

    import matplotlib.pyplot as plt  # noqa: PLC0415
    from optuna.visualization import matplotlib as plots  # noqa: PLC0415

    from emokit.atomic import atomic_path  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for name, draw in (("history", plots.plot_optimization_history), ("importance", plots.plot_param_importances),
                       ("parallel", plots.plot_parallel_coordinate)):
        path = out_dir / f"{study.study_name}.{name}.png"
        try:
            with warnings.catch_warnings():  # Optuna marks its matplotlib plots experimental, every call
                warnings.simplefilter("ignore")
                axes = draw(study)
        except Exception as exc:  # too few trials for importances, one parameter for parallel coordinates...
            skipped.append(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            continue
        figure = axes.flat[0].figure if hasattr(axes, "flat") else axes.figure
        figure.set_size_inches(9, 5)
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
        plt.close(figure)
        written.append(path)
    return written, skipped
