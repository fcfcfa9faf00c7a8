"""``emokit train``: flags -> TrainConfig -> :func:`emokit.training.trainer.train`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from emokit.cli.common import console, registry_with_warnings
from emokit.errors import EmokitError
from emokit.options import parse_options
from emokit.runs import Run, find_run, runs_root
from emokit.training.config import OPTIMIZERS, SCHEDULES, TrainConfig

if TYPE_CHECKING:
    from emokit.registry import Registry

#: The built-in synthetic set is a smoke test that should finish in minutes on a laptop.
SYNTHETIC_EPOCHS = 3
#: Every flag's default is TrainConfig's, so the CLI and a config built in Python train the same way.
DEFAULTS = TrainConfig()


#: The flags ``--resume`` takes: the run keeps every other setting it was started with.
RESUME_FLAGS = {"epochs": "--epochs", "patience": "--patience", "out": "--out"}


def train_command(
    ctx: typer.Context,
    arch: str = typer.Option(DEFAULTS.arch, "--arch", help="Architecture (see `emokit plugins`)."),
    data: Optional[str] = typer.Option(None, "--data", help="Dataset file or folder (FER-2013 zip/CSV/folder, image folder). Default: built-in synthetic faces."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Dataset plugin to read --data with (default: picked from the path)."),
    backend: Optional[str] = typer.Option(None, "--backend", help="torch, tensorflow or jax (default: $KERAS_BACKEND, else the first installed)."),
    aug: list[str] = typer.Option([], "--aug", help="Augmentation NAME or NAME=key=value,... (repeatable)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help=f"Maximum epochs (default: {DEFAULTS.epochs}; {SYNTHETIC_EPOCHS} on the built-in synthetic set)."),
    batch_size: int = typer.Option(DEFAULTS.batch_size, "--batch-size"),
    lr: float = typer.Option(DEFAULTS.lr, "--lr", help="Initial learning rate."),
    optimizer: str = typer.Option(DEFAULTS.optimizer, "--optimizer", help=f"{', '.join(OPTIMIZERS)}."),
    schedule: str = typer.Option(DEFAULTS.schedule, "--schedule", help=f"Learning-rate schedule: {', '.join(SCHEDULES)}."),
    label_smoothing: float = typer.Option(DEFAULTS.label_smoothing, "--label-smoothing"),
    precision: str = typer.Option(DEFAULTS.precision, "--precision", help="float32, or mixed_bfloat16: bfloat16 compute, about 2x faster on CPUs with AVX-512 BF16/AMX."),
    patience: int = typer.Option(DEFAULTS.patience, "--patience", help="Early stopping: epochs without a better validation accuracy."),
    class_weights: bool = typer.Option(DEFAULTS.class_weights, "--class-weights", help="Weight classes inversely to their frequency."),
    seed: int = typer.Option(DEFAULTS.seed, "--seed"),
    seeds: int = typer.Option(1, "--seeds", help="Train N runs as one group, with seeds SEED, SEED+1, ... and the same data split; "
                              "`emokit runs` shows the group's mean ± std."),
    val_fraction: float = typer.Option(DEFAULTS.val_fraction, "--val-fraction", help="Share of train carved out for validation when the data has no val split."),
    image_size: int = typer.Option(DEFAULTS.image_size, "--image-size", help="Input height and width."),
    channels: int = typer.Option(DEFAULTS.channels, "--channels", help="1 (grayscale) or 3 (RGB)."),
    sets: list[str] = typer.Option([], "--set", help="Architecture option key=value (repeatable)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Runs folder (default: $EMOKIT_RUNS_DIR or ./runs)."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue an interrupted run (path or name)."),
) -> None:
    """Train a CNN and write a run: config, spec, weights, history, metrics, plots."""
    from emokit.training.interrupts import stop_signals  # noqa: PLC0415 - small: keeps `--help` fast

    # From the very first line: a Ctrl-C or SIGTERM while plugins load, data decodes or the backend
    # traces the graph stops promptly too (and a second one at once).
    with stop_signals(process_ends=True) as stops:
        try:
            from emokit.training.trainer import train  # noqa: PLC0415 - keeps `--help` fast

            if seeds < 1:
                raise EmokitError(f"--seeds must be at least 1, got {seeds}.")

            if resume:
                run = find_run(resume, out)
                refused = [param.opts[0] for param in ctx.command.params
                           if param.name not in {"resume", *RESUME_FLAGS} and _given(ctx, param.name)]
                if refused:
                    raise EmokitError(f"--resume continues run '{run.name}' with its own settings; it cannot change "
                                      f"{', '.join(refused)}. With --resume only {', '.join(RESUME_FLAGS.values())} apply.")
                registry = registry_with_warnings()
                changes = {"epochs": epochs, "patience": patience if _given(ctx, "patience") else None}
                config = TrainConfig.from_dict({**run.config(), **{k: v for k, v in changes.items() if v is not None}})
                result = train(config, registry, resume=run, console=console, stops=stops)
            else:
                registry = registry_with_warnings()
                config = config_from_flags(registry, arch=arch, sets=sets, data=data, dataset=dataset, backend=backend,
                                           aug=aug, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
                                           schedule=schedule, label_smoothing=label_smoothing, precision=precision,
                                           patience=patience, class_weights=class_weights, seed=seed,
                                           val_fraction=val_fraction, image_size=image_size, channels=channels)
                if seeds > 1:
                    from emokit.training.seeds import train_seeds  # noqa: PLC0415

                    group = train_seeds(config, registry, seeds, root=out, console=console, stops=stops, on_run=_print_results)
                    _print_group(group)
                    return
                result = train(config, registry, root=out, console=console, stops=stops)
        except KeyboardInterrupt:  # before train() took charge (imports, plugins): nothing was written yet
            raise EmokitError("Training interrupted before it started; no run was written.") from None
    _print_results(result)
    console.print(next_steps(result), highlight=False, soft_wrap=True)


def config_from_flags(registry: Registry, *, arch: str, sets: list[str], data: str | None, dataset: str | None,
                      backend: str | None, aug: list[str], epochs: int | None, **settings: Any) -> TrainConfig:
    """The TrainConfig that ``emokit train``'s flags describe (``settings``: the flags named like TrainConfig's
    fields), each option checked against its plugin; shared with ``emokit sweep``, which takes the same flags."""
    from emokit.training.trainer import parse_augmentations  # noqa: PLC0415

    record = registry.get("architecture", arch)
    return TrainConfig(
        arch=arch, arch_options=parse_options(sets, record.options, f"Architecture '{arch}'"), data=data,
        dataset=dataset, backend=backend, augmentations=parse_augmentations(registry, aug),
        epochs=epochs if epochs is not None else (DEFAULTS.epochs if (data or dataset) else SYNTHETIC_EPOCHS),
        **settings,
    )


def _print_results(run: Run) -> None:
    """A finished run's results table and where it was written."""
    from emokit.cli.tables import metrics_table  # noqa: PLC0415

    console.print(metrics_table(run))
    console.print(f"Run written to [bold]{run.path}[/]")


def _print_group(runs: list[Run]) -> None:
    """A finished seed group: its mean ± std, and how to look at it again."""
    from emokit.cli.runs import group_table  # noqa: PLC0415
    from emokit.run_groups import group_of  # noqa: PLC0415

    name = group_of(runs[0])
    console.print(group_table({name: runs}, f"Group {name}"))
    root = runs[0].path.parent
    where = "" if root.resolve() == runs_root(None).resolve() else f" --runs {shlex.quote(str(root))}"
    console.print(f"Next:\n  emokit runs{where}\n  emokit runs compare {shlex.quote(str(name))} OTHER_RUN_OR_GROUP{where}",
                  highlight=False, soft_wrap=True)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user typed the flag (not merely its default)."""
    source = ctx.get_parameter_source(name)
    # By name: Typer may bring its own copy of click, whose enum is not ``click.core.ParameterSource``.
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def next_steps(run: Run) -> str:
    """What to do with a finished run: the exact commands, with its name (its path when outside the runs folder)."""
    ref = run.name if run.path.parent.resolve() == runs_root(None).resolve() else str(run.path)
    ref = shlex.quote(ref)
    return f"Next:\n  emokit evaluate {ref}\n  emokit predict {ref} photo.jpg\n  emokit demo {ref}"

