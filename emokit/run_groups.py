"""Seed groups: runs of one configuration trained with successive seeds (``emokit train --seeds N``).

A run's group is the ``group`` of its ``config.json`` (``None`` for a run trained alone). One
seed's result says little: the spread over seeds is what a difference between configurations
must beat. This module finds a group's runs and summarises a number over them as mean ± sample
standard deviation. It needs only the standard library, so listing runs stays light.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from emokit.runs import Run, list_runs, runs_root


def group_of(run: Run) -> str | None:
    """The seed group ``run`` belongs to, or ``None``."""
    group = run.config().get("group")
    return str(group) if group else None


def groups_of(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """The seed groups among ``runs``: name -> its runs, in the order given (groups in order of their first run)."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        group = group_of(run)
        if group is not None:
            groups.setdefault(group, []).append(run)
    return groups


def find_group(name: str, root: Path | None = None) -> list[Run]:
    """The runs of group ``name`` in the runs folder, oldest first (empty if there is no such group)."""
    return groups_of(list_runs(runs_root(root))).get(name, [])


@dataclass(frozen=True)
class Spread:
    """A number over a group's runs: mean, sample standard deviation (``None`` for one value), how many."""

    mean: float
    std: float | None
    count: int


def spread(values: Iterable[float | None]) -> Spread | None:
    """Mean and sample standard deviation (n - 1) of the known ``values``; ``None`` if none is known."""
    known = [float(v) for v in values if v is not None]
    if not known:
        return None
    return Spread(statistics.fmean(known), statistics.stdev(known) if len(known) > 1 else None, len(known))
