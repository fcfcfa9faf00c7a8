"""Datasets: pick and load one for a command, and summarise its class counts.

Each dataset plugin holds its own loader (``plugins/fer2013_files.py``, ``image_folder.py``,
``synthetic_faces.py``); this package keeps only what several of them share: reading folder and zip
layouts (``layout``, ``image_layout``, ``sources``), decoding (``decode``), splitting
(``splits``, ``assemble``), the request check (``request``) and the cache (``cache``). Images are
uint8 raw pixels (N, H, W, C) everywhere; see :mod:`emokit.preprocess`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emokit.errors import EmokitError
from emokit.records import DataRequest, Dataset

#: The built-in dataset of drawn faces (the ``synthetic`` plugin): accuracies measured on it say
#: nothing about photos, so runs and tables name it.
SYNTHETIC = "synthetic"
#: The dataset used when no data is given.
DEFAULT_DATASET = SYNTHETIC
#: Split order in tables.
SPLIT_ORDER = ("train", "val", "test")

__all__ = ["DEFAULT_DATASET", "SYNTHETIC", "DatasetRejected", "describe_counts", "open_dataset"]


class DatasetRejected(EmokitError):
    """Raised by a dataset's ``can_open(path)`` for a path in its format that it still cannot open.

    The message is the reason, one line naming the file (``fer.csv: missing column 'pixels' ...``).
    ``can_open`` answers ``False`` for paths that are simply not its format; raising says "this is
    mine, and here is what is wrong", so that when no dataset opens a path the user learns why.
    """


def open_dataset(registry: Any, data: str | Path | None, request: DataRequest, dataset: str | None = None) -> Dataset:
    """Load the dataset a command asked for.

    * ``dataset`` named: that plugin loads ``data`` (which may be ``None`` for synthetic);
    * no ``data``: the synthetic dataset;
    * otherwise the first dataset plugin (by name) whose ``can_open(path)`` is true.

    ``request.source`` is replaced by ``data``. Raises :class:`EmokitError` for a path that does not
    exist or that no plugin can open: with the reasons of the plugins that recognised it but
    rejected it (:class:`DatasetRejected`), else listing the dataset plugins.
    """
    path = Path(data).expanduser() if data is not None else None
    request = DataRequest(
        source=path,
        image_size=request.image_size,
        channels=request.channels,
        val_fraction=request.val_fraction,
        seed=request.seed,
        use_cache=request.use_cache,
        progress=request.progress,
    )
    if path is not None and not path.exists():
        raise EmokitError(f"Data path '{path}' does not exist.")
    if dataset is not None:
        return registry.get("dataset", dataset).load(request)
    if path is None:
        return registry.get("dataset", DEFAULT_DATASET).load(request)
    records = registry.records("dataset")
    reasons: dict[str, str] = {}
    for name, record in records.items():
        try:
            opens = record.can_open(path)
        except DatasetRejected as exc:
            reasons[name] = str(exc)
            continue
        if opens:
            return record.load(request)
    raise EmokitError(_cannot_open(path, records, reasons))


def _cannot_open(path: Path, records: Mapping[str, Any], reasons: Mapping[str, str]) -> str:
    """Why no plugin opened ``path``: the reason given (once, if every plugin gave the same), or the plugins."""
    # Reasons name the path first, as every data error does; the sentence has named it already.
    distinct = {name: reason.removeprefix(f"{path}: ") for name, reason in reasons.items()}
    if len(set(distinct.values())) == 1:
        return f"No dataset plugin can open '{path}': {next(iter(distinct.values()))}"
    if distinct:
        return f"No dataset plugin can open '{path}': " + " ".join(f"{name}: {reason}" for name, reason in distinct.items())
    listing = "; ".join(f"{name}: {record.summary}" for name, record in records.items())
    return f"No dataset plugin can open '{path}'. Dataset plugins: {listing or '(none)'}."


def describe_counts(dataset: Dataset) -> list[dict[str, Any]]:
    """One row per class plus a ``total`` row: ``{"class": name, "train": n, "val": n, "test": n, "total": n}``.

    Only the splits the dataset has appear as keys; ready for a rich table or JSON.
    """
    splits = [s for s in SPLIT_ORDER if s in dataset.splits] + [s for s in dataset.splits if s not in SPLIT_ORDER]
    counts = {split: dataset.counts(split) for split in splits}
    rows: list[dict[str, Any]] = []
    for name in dataset.class_names:
        row: dict[str, Any] = {"class": name, **{split: counts[split][name] for split in splits}}
        row["total"] = sum(row[split] for split in splits)
        rows.append(row)
    total: dict[str, Any] = {"class": "total", **{split: len(dataset.splits[split]) for split in splits}}
    total["total"] = sum(total[split] for split in splits)
    rows.append(total)
    return rows
