"""``emokit sweep``: search ``emokit train``'s settings with Optuna; ``emokit sweep show``: what a sweep found.

    emokit sweep --space space.toml --trials 12 [any emokit train option]
    emokit sweep show [STUDY] [--runs DIR] [--storage URL]

The train options are parsed by ``emokit train``'s own parser (the same names, defaults and checks),
and set the base every trial starts from; the space file says what varies (see emokit.sweep.space).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
import typer.main

from emokit.cli.common import console, registry_with_warnings
from emokit.errors import EmokitError
from emokit.runs import runs_root

#: ``emokit train`` options a sweep cannot take: each trial is one fresh run.
REFUSED = {"resume": "--resume", "seeds": "--seeds"}


def _train_flags(args: list[str]) -> dict:
    """``emokit train``'s parameters parsed from ``args`` by its own command (so names, defaults and checks are its)."""
    from emokit.cli.train import train_command  # noqa: PLC0415

    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command()(train_command)
    command = typer.main.get_command(single)
    try:
        context = command.make_context("emokit sweep", list(args))
    except Exception as exc:  # click's usage errors (an unknown option, a bad value): one line
        message = getattr(exc, "format_message", lambda: str(exc))()
        raise EmokitError(f"emokit sweep: {message} (options after the sweep's own are emokit train's; see emokit train --help)") from None
    params = dict(context.params)
    for name, flag in REFUSED.items():
        if params.get(name) not in (None, 1):
            raise EmokitError(f"emokit sweep cannot take {flag}: every trial is one new run (rerun the same sweep command to continue it).")
    return params


def sweep_command(
    ctx: typer.Context,
    space: Optional[Path] = typer.Option(None, "--space", help="TOML file of the parameters to search (see docs/experiments.md)."),
    trials: int = typer.Option(10, "--trials", help="Trials to finish in all (complete or pruned), counting earlier runs of the same sweep."),
    sampler: str = typer.Option("tpe", "--sampler", help="tpe, random or grid."),
    pruner: str = typer.Option("median", "--pruner", help="median (stop a trial below the median of earlier ones at the same epoch) or none."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage URL (default: sqlite file sweeps.db in the runs folder); postgresql://... to share a study between machines."),
    study: Optional[str] = typer.Option(None, "--study", help="Study name (default: derived from the command, so the same command resumes it)."),
    sampler_seed: Optional[int] = typer.Option(None, "--sampler-seed", help="Seed of the sampler (default: 0; with --storage, one per machine and process, so workers elsewhere draw apart)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Trials run at once, in that many processes on this machine (the cores are split between them)."),
    worker_index: int = typer.Option(0, "--worker-index", hidden=True, help="Set by --workers for each worker process."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="`emokit sweep show`: the runs folder whose sweeps to show (a sweep itself writes where --out says)."),
) -> None:
    """Search emokit train's settings with Optuna: each trial is a run; rerun the same command to continue. `emokit sweep show` shows the results."""
    import optuna  # noqa: PLC0415

    # The sweep prints its own line per trial (a failed one with its reason); Optuna's own would add a traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if ctx.args[:1] == ["show"]:
        show(ctx.args[1:], runs, storage, study)
        return
    if runs is not None:
        raise EmokitError("--runs is for `emokit sweep show`; a sweep writes its runs into the folder --out names.")
    if space is None:
        raise EmokitError("emokit sweep needs --space FILE (a TOML file of the parameters to search), or `emokit sweep show`.")
    from emokit.cli.train import config_from_flags  # noqa: PLC0415
    from emokit.sweep.run import run_sweep  # noqa: PLC0415
    from emokit.sweep.space import load_space  # noqa: PLC0415
    from emokit.sweep.study import SweepSettings  # noqa: PLC0415
    from emokit.training.interrupts import stop_signals  # noqa: PLC0415

    if sampler_seed is None:  # a study shared through --storage: each machine's workers must not draw the same values
        sampler_seed = 0 if storage is None else int.from_bytes(os.urandom(4), "little")
    settings = SweepSettings(trials=trials, sampler=sampler, pruner=pruner, seed=sampler_seed, worker=worker_index).check()
    flags = _train_flags(ctx.args)
    root = runs_root(flags.pop("out"))
    for name in ("resume", "seeds", "ctx"):
        flags.pop(name, None)
    registry = registry_with_warnings()
    base = config_from_flags(registry, **flags)
    search = load_space(space, base, registry)
    if workers > 1:
        _run_workers(ctx.args, space, settings, base, search, root, storage, study, workers)
        return
    with stop_signals(process_ends=True) as stops:
        found = run_sweep(base, search, space.read_text(), settings, registry, root, console, storage=storage,
                          name=study, stops=stops)
    _report(found, root)


#: The options after the sweep's own are emokit train's (and `show STUDY`): click passes them on in ctx.args.
sweep_command.context_settings = {"allow_extra_args": True, "ignore_unknown_options": True}


def _run_workers(train_args: list[str], space: Path, settings, base, search, root: Path, storage: str | None,
                 study: str | None, workers: int) -> None:
    """Create the study here (workers starting together would race to create it), then run the workers."""
    from emokit.sweep.run import start_study  # noqa: PLC0415
    from emokit.sweep.study import finished_trials, open_study  # noqa: PLC0415
    from emokit.sweep.workers import run_workers  # noqa: PLC0415

    found, name, url = start_study(base, search, space.read_text(), settings, root, storage=storage, name=study)
    console.print(f"Sweep [bold]{name}[/] ({url}): {finished_trials(found)} of {settings.trials} trials finished; "
                  f"{workers} workers.", highlight=False)
    arguments = ["sweep", "--space", str(space), "--trials", str(settings.trials), "--sampler", settings.sampler,
                 "--pruner", settings.pruner, "--sampler-seed", str(settings.seed), "--storage", url, "--study", name,
                 *train_args]
    codes = run_workers(arguments, workers, lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True))
    found = open_study(name, url, settings, search)
    if any(codes):
        raise EmokitError(f"Sweep {name}: {sum(1 for c in codes if c)} of {workers} workers stopped with an error "
                          f"({finished_trials(found)} of {settings.trials} trials finished). Rerun the same command to continue.")
    _report(found, root)


def show(rest: list[str], runs: Path | None, storage: str | None, study: str | None) -> None:
    """``emokit sweep show [STUDY] [--runs DIR]``: the table, the best trial's command and the plots."""
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        raise EmokitError(f"emokit sweep show takes one study name at most, got: {' '.join(rest)}.")
    from emokit.sweep.report import load_study  # noqa: PLC0415
    from emokit.sweep.study import default_storage  # noqa: PLC0415

    root = runs_root(runs)
    url = storage or default_storage(root)
    if storage is None and not (root / "sweeps.db").is_file():
        raise EmokitError(f"No sweeps in {root} yet: run one with emokit sweep --space space.toml --trials N.")
    _report(load_study(url, rest[0] if rest else study), root)


def _report(found, root: Path) -> None:
    from emokit.sweep.report import best_command, trials_table, write_plots  # noqa: PLC0415

    console.print(trials_table(found))
    command = best_command(found)
    if command:
        console.print(f"Best trial, as a command:\n  {command}", highlight=False, soft_wrap=True)
    written, skipped = write_plots(found, root / "sweeps")
    for path in written:
        console.print(f"Plot: {path}", highlight=False, soft_wrap=True)
    for reason in skipped:
        console.print(f"[dim]No {reason}[/]", highlight=False, soft_wrap=True)
