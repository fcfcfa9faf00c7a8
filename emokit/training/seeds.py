"""Train one configuration with several seeds as a group (``emokit train --seeds N``).

The runs of a group differ only in ``seed``: SEED, SEED+1, ... seed the weights' initialisation,
the shuffling and the augmentations. The data is drawn with the first seed for every run
(``data_seed``), so all the runs are validated and tested on the same faces and can be compared
face by face. Each run records the group's name in its ``config.json`` (``group``), which is how
``emokit runs`` and ``emokit runs compare`` find the group and show its mean ± std.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from emokit.errors import EmokitError
from emokit.registry import Registry
from emokit.run_groups import groups_of
from emokit.runs import Run, list_runs, runs_root
from emokit.training.config import TrainConfig
from emokit.training.interrupts import StopSignals
from emokit.training.trainer import train


def new_group_name(config: TrainConfig, root: Path) -> str:
    """``<time>-<arch>-seeds``, unique among the groups already in ``root``."""
    base = f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{config.arch}-seeds"
    taken = set(groups_of(list_runs(root)))
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def group_configs(config: TrainConfig, count: int, group: str) -> list[TrainConfig]:
    """``count`` copies of ``config`` with seeds ``seed``, ``seed + 1``, ..., all drawing the data with ``seed``."""
    if count < 1:
        raise EmokitError(f"--seeds must be at least 1, got {count}.")
    return [replace(config, seed=config.seed + i, data_seed=config.split_seed, group=group) for i in range(count)]


def train_seeds(config: TrainConfig, registry: Registry, count: int, root: Path | None = None,
                console: Console | None = None, stops: StopSignals | None = None,
                on_run: Callable[[Run], None] | None = None) -> list[Run]:
    """Train ``config`` with ``count`` successive seeds as one group; returns the runs, in seed order.

    ``on_run`` is called with each run as it finishes (the CLI prints its results). A failure or an
    interrupt stops the group there: the runs already finished keep their group, and the message
    says how many of the group were trained.
    """
    configs = group_configs(config, count, new_group_name(config, runs_root(root)))
    runs: list[Run] = []
    for index, member in enumerate(configs):
        if console is not None:
            console.print(f"[bold]Group {member.group}[/]: run {index + 1} of {count}, seed {member.seed}", highlight=False)
        try:
            run = train(member, registry, root=root, console=console, stops=stops)
        except EmokitError as exc:
            if index == 0:
                raise
            message = f"{exc} (group {member.group}: {index} of {count} runs finished before this one)"
            try:  # the same kind of error (an interrupt stays an interrupt), saying how far the group got
                error = type(exc)(message)
            except TypeError:
                error = EmokitError(message)
            raise error from None
        runs.append(run)
        if on_run is not None:
            on_run(run)
    return runs
