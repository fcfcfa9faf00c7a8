"""Load a folder or zip of class folders (optionally inside split folders) into a Dataset.

Shared by the FER-2013 image layout and the generic image folder; they differ only in how class
folder names become class indices, which the caller passes as ``class_map``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from emokit.data import DatasetRejected
from emokit.data.assemble import assemble_splits
from emokit.data.cache import cached_load
from emokit.data.decode import decode_many, warn_skipped
from emokit.data.layout import Layout, scan_layout
from emokit.data.request import check_request
from emokit.data.sources import open_source
from emokit.errors import EmokitError
from emokit.records import DataRequest, Dataset

#: (layout, display) -> (class names in label order, class folder name -> label); raises
#: :class:`EmokitError` for class folders that do not fit the dataset.
ClassMap = Callable[[Layout, str], tuple[tuple[str, ...], dict[str, int]]]


def read_layout(path: Path) -> Layout:
    """The layout of a folder or zip (raises :class:`EmokitError` when it has none)."""
    with open_source(path) as source:
        files, folders = source.listing()
        return scan_layout(files, folders, source.display)


def layout_to_open(path: Path) -> Layout | None:
    """For a ``can_open``: the layout of a folder or ``.zip``, ``None`` for any other path.

    A folder or zip whose layout is wrong raises :class:`DatasetRejected` with the reason.
    """
    if not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip")):
        return None
    try:
        return read_layout(path)
    except EmokitError as exc:
        raise DatasetRejected(str(exc)) from None


def closest(name: str, known: Iterable[str]) -> str | None:
    """The one of ``known`` a misspelt folder name most likely meant (for a "did you mean"), if any is close."""
    close = difflib.get_close_matches(name.lower(), list(known), n=1)
    return close[0] if close else None


def load_image_layout(request: DataRequest, loader: str, class_map: ClassMap) -> Dataset:
    """Decode every image of the source at ``request.source`` (through the cache) into a Dataset."""
    check_request(request)
    if request.source is None:
        raise EmokitError(f"The {loader} dataset needs a data path (a folder or .zip).")
    path = Path(request.source)

    def build(fingerprint: str) -> tuple[Dataset, str | None]:
        with open_source(path) as source:
            files, folders = source.listing()
            layout = scan_layout(files, folders, source.display)
            class_names, label_of = class_map(layout, source.display)
            names: list[str] = []
            labels: list[int] = []
            split_of: list[str | None] = []
            for split, classes in layout.splits.items():
                for folder, paths in classes.items():
                    names.extend(paths)
                    labels.extend([label_of[folder]] * len(paths))
                    split_of.extend([split] * len(paths))
            decoded = decode_many(source, names, request.image_size, request.channels, request.progress)
            warning = warn_skipped(decoded, source.display, len(names))
        label_array = np.asarray(labels, dtype=np.int64)[decoded.kept]
        split_array = np.asarray(split_of, dtype=object)[decoded.kept]
        given = {}
        for split in layout.splits:
            rows = np.flatnonzero(split_array == split) if split is not None else np.arange(len(label_array))
            given[split] = (decoded.images[rows], label_array[rows])
        splits = assemble_splits(given, request.val_fraction, request.seed, carve_test=True)
        dataset = Dataset(
            name=loader,
            class_names=class_names,
            splits=splits,
            fingerprint=fingerprint,
            source=str(path),
            skipped=len(decoded.problems),
        )
        return dataset, warning

    return cached_load(loader, request, build)
