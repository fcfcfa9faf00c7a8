"""A sweep's search space, read from a small TOML file: which ``emokit train`` settings vary, and how.

One table per parameter, named after the flag it sets (without the dashes; ``set.KEY`` for an
architecture option, ``aug.NAME.KEY`` for an augmentation's option, the augmentation added when the
base command does not have it)::

    [lr]                    # --lr, log-uniform
    type = "float"
    low = 1e-4
    high = 1e-2
    log = true

    [batch_size]            # --batch-size
    type = "categorical"
    choices = [64, 128]

    ["set.width"]           # --set width=...
    type = "categorical"
    choices = [0.5, 0.75]

    ["aug.shift.factor"]    # --aug shift=factor=...
    type = "float"
    low = 0.0
    high = 0.2
    step = 0.05             # optional: a grid of values (needed by the grid sampler for floats)

Types: ``float`` (``log = true``: log-uniform), ``int`` (``step``, ``log``) and ``categorical``
(``choices``). Every value a space can produce is checked against the same rules as the command line
before the first trial starts, so a typo fails in one line, not an hour into a sweep.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emokit.errors import EmokitError
from emokit.registry import Registry
from emokit.training.config import TrainConfig

TYPES = ("float", "int", "categorical")
#: TrainConfig fields a space may not vary: where the data comes from, and what identifies a run.
FIXED = frozenset({"arch_options", "augmentations", "data", "dataset", "backend", "seed", "data_seed", "group", "study", "trial"})
#: Largest grid the grid sampler is offered (a typo in a step would otherwise ask for millions of trials).
MAX_GRID = 10_000


@dataclass(frozen=True)
class Parameter:
    """One parameter of the space: its name in the file, its type and its range or choices."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """This parameter's value for an Optuna ``trial``."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), step=self.step, log=self.log)

    def grid(self) -> list[Any]:
        """Every value, for the grid sampler: the choices, or the range in steps."""
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "float" and self.step is None:
            raise EmokitError(f"Search space: '{self.name}' is a float range without a step; the grid sampler "
                              "needs every parameter to be categorical or to have a step.")
        step = self.step or 1
        count = int(round((self.high - self.low) / step)) + 1
        values = [self.low + i * step for i in range(count)]
        return [int(v) for v in values] if self.kind == "int" else [round(v, 12) for v in values]

    def corners(self) -> list[Any]:
        """The values to check before the sweep starts: the choices, or both ends of the range."""
        if self.kind == "categorical":
            return list(self.choices)
        return [int(self.low), int(self.high)] if self.kind == "int" else [float(self.low), float(self.high)]


@dataclass(frozen=True)
class SearchSpace:
    """The parameters of a sweep, in the file's order."""

    parameters: tuple[Parameter, ...]
    source: str = ""

    def grid(self) -> dict[str, list[Any]]:
        """The grid sampler's search space: every parameter's values."""
        grid = {p.name: p.grid() for p in self.parameters}
        size = 1
        for values in grid.values():
            size *= len(values)
        if size > MAX_GRID:
            raise EmokitError(f"Search space: the grid has {size:,} points (more than {MAX_GRID:,}); use fewer values or steps.")
        return grid

    def apply(self, base: TrainConfig, values: dict[str, Any]) -> TrainConfig:
        """``base`` with each parameter set to its value in ``values`` (by name)."""
        fields: dict[str, Any] = {}
        arch_options = dict(base.arch_options)
        augmentations = [(name, dict(options)) for name, options in base.augmentations]
        for name, value in values.items():
            head, _, rest = name.partition(".")
            if head == "set" and rest:
                arch_options[rest] = value
            elif head == "aug" and rest:
                aug, _, key = rest.partition(".")
                entry = next((options for existing, options in augmentations if existing == aug), None)
                if entry is None:
                    entry = {}
                    augmentations.append((aug, entry))
                entry[key] = value
            else:
                fields[name] = value
        return dataclasses.replace(base, **fields, arch_options=arch_options, augmentations=tuple(augmentations))

    def check(self, base: TrainConfig, registry: Registry) -> None:
        """Every value the space can give, applied to ``base``, passes ``emokit train``'s checks; else one line."""
        from emokit.training.trainer import validate  # noqa: PLC0415

        for parameter in self.parameters:
            for value in parameter.corners():
                try:
                    validate(self.apply(base, {parameter.name: value}), registry)
                except EmokitError as exc:
                    raise EmokitError(f"Search space {self.source}: '{parameter.name}' = {value!r}: {exc}") from None


def _parameter(name: str, table: Any, where: str) -> Parameter:
    if not isinstance(table, dict):
        raise EmokitError(f"{where}: '{name}' must be a table ([{name}] with type = ...), got {table!r}.")
    kind = table.get("type")
    if kind not in TYPES:
        raise EmokitError(f"{where}: '{name}' has type {kind!r}; expected one of {', '.join(TYPES)}.")
    allowed = {"type", "choices"} if kind == "categorical" else {"type", "low", "high", "log", "step"}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise EmokitError(f"{where}: '{name}' has unknown key(s) {', '.join(unknown)}; a {kind} takes {', '.join(sorted(allowed))}.")
    if kind == "categorical":
        choices = table.get("choices")
        if not isinstance(choices, list) or not choices:
            raise EmokitError(f"{where}: '{name}' needs choices = [...] with at least one value.")
        return Parameter(name, kind, choices=tuple(choices))
    low, high = table.get("low"), table.get("high")
    number = int if kind == "int" else (int, float)
    if not isinstance(low, number) or not isinstance(high, number) or isinstance(low, bool) or isinstance(high, bool):
        raise EmokitError(f"{where}: '{name}' needs numbers low and high ({kind}), got low={low!r}, high={high!r}.")
    if low > high:
        raise EmokitError(f"{where}: '{name}' has low {low} above high {high}.")
    log, step = bool(table.get("log", False)), table.get("step")
    if log and low <= 0:
        raise EmokitError(f"{where}: '{name}' is log-uniform, so low must be above 0 (got {low}).")
    if step is not None and (not isinstance(step, number) or step <= 0 or log):
        raise EmokitError(f"{where}: '{name}' step must be a positive number, and cannot go with log = true.")
    return Parameter(name, kind, low, high, log, step)


def _check_name(name: str, base: TrainConfig, registry: Registry, where: str) -> None:
    """The parameter names something ``emokit train`` has: a TrainConfig field, an architecture or augmentation option."""
    try:
        _check_target(name, base, registry, where)
    except EmokitError as exc:
        message = str(exc)
        raise EmokitError(message if message.startswith(where) else f"{where}: '{name}': {message}") from None


def _check_target(name: str, base: TrainConfig, registry: Registry, where: str) -> None:
    head, _, rest = name.partition(".")
    if head == "set" and rest:
        options = registry.get("architecture", base.arch).options
        if rest not in options:
            raise EmokitError(f"{where}: architecture '{base.arch}' has no option '{rest}'. It has: {', '.join(options) or 'none'}.")
    elif head == "aug" and rest:
        aug, _, key = rest.partition(".")
        if not key:
            raise EmokitError(f"{where}: '{name}' must be aug.NAME.OPTION, e.g. aug.shift.factor.")
        options = registry.get("augmentation", aug).options  # an unknown name lists the augmentations there are
        if key not in options:
            raise EmokitError(f"{where}: augmentation '{aug}' has no option '{key}'. It has: {', '.join(options) or 'none'}.")
    else:
        fields = [f for f in TrainConfig.__dataclass_fields__ if f not in FIXED]
        if name not in fields:
            raise EmokitError(f"{where}: '{name}' is not a setting a sweep can vary. Use one of {', '.join(fields)}, "
                              "set.OPTION (architecture) or aug.NAME.OPTION (augmentation).")


def load_space(path: Path, base: TrainConfig, registry: Registry) -> SearchSpace:
    """The search space in the TOML file at ``path``, checked against ``base`` and the registry (one-line errors)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise EmokitError(f"Search space file '{path}' does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EmokitError(f"Search space file '{path}' cannot be read: {exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise EmokitError(f"Search space file '{path}' is not valid TOML: {exc}.") from None
    if not data:
        raise EmokitError(f"Search space file '{path}' has no parameters: add a table such as [lr] with type, low and high.")
    where = f"Search space {path}"
    parameters = []
    for name, table in data.items():
        _check_name(name, base, registry, where)
        parameters.append(_parameter(name, table, where))
    space = SearchSpace(tuple(parameters), str(path))
    space.check(base, registry)
    return space
