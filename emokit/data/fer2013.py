"""FER-2013 in every form users have it: the Kaggle CSV, or the Kaggle image layout as a folder or zip.

Classes are always :data:`emokit.FER_CLASSES` (the Kaggle CSV label order), whatever order the
folders list in; folder names map to those indices, with a few common spellings accepted. A folder
that names most of the seven classes is FER-2013, so an unknown or missing class folder there is an
error rather than a different set of classes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emokit import FER_CLASSES
from emokit.data import DatasetRejected
from emokit.data.assemble import assemble_splits
from emokit.data.cache import cached_load
from emokit.data.fer_csv import FER_SIDE, check_fer_csv, read_fer_csv
from emokit.data.image_layout import closest, layout_to_open, load_image_layout
from emokit.data.layout import Layout
from emokit.data.request import check_request
from emokit.errors import EmokitError
from emokit.preprocess import to_model_input
from emokit.records import DataRequest, Dataset

NAME = "fer2013"

#: Folder name (lower case) -> FER class; other datasets' spellings of the same seven classes.
FOLDER_ALIASES: dict[str, str] = {
    **{name: name for name in FER_CLASSES},
    "anger": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprised": "surprise",
}


#: "Most of the seven": class folders naming at least this many FER classes are read as FER-2013,
#: so a misspelt or extra folder is an error instead of a new class that shifts the labels.
FER_LOOKALIKE_CLASSES = 4
_NOT_FER = "if this is not FER-2013, use --dataset image_folder to keep the folders' own classes"
#: Splits in the order their problems are reported: the images a model learns from first.
_SPLIT_ORDER = ("train", None, "val", "test")


def fer_class_map(layout: Layout, display: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """FER_CLASSES and the label of each class folder.

    An unknown folder name is an :class:`EmokitError` naming it (with a "did you mean"), and so is a
    FER class with no folder among the training images: the labels must be FER-2013's, whatever
    the folders are called. ``val`` and ``test`` may lack a class (a test set without "disgust").
    """
    label_of: dict[str, int] = {}
    for split in sorted(layout.splits, key=_SPLIT_ORDER.index):
        for folder in layout.splits[split]:
            canonical = FOLDER_ALIASES.get(folder.lower())
            if canonical is None:
                meant = closest(folder, FOLDER_ALIASES)
                raise EmokitError(
                    f"{display}: unknown class folder '{layout.folder(split, folder)}'"
                    + (f" (did you mean '{meant}'?)" if meant else "")
                    + f"; FER-2013 classes are {', '.join(FER_CLASSES)} ({_NOT_FER})."
                )
            label_of[folder] = FER_CLASSES.index(canonical)
    for split in ("train", None):
        if split in layout.splits:
            present = {FOLDER_ALIASES[folder.lower()] for folder in layout.splits[split]}
            missing = [name for name in FER_CLASSES if name not in present]
            if missing:
                where = layout.prefixes[split].rstrip("/")
                raise EmokitError(
                    f"{display}: {f'{where!r} has' if where else 'has'} no folder for the FER-2013 "
                    f"class{'es' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}; "
                    f"FER-2013 needs all of {', '.join(FER_CLASSES)} ({_NOT_FER})."
                )
    return FER_CLASSES, label_of


def can_open_fer2013(path: Path) -> bool:
    """A FER CSV, or a folder/zip whose class folders name most of the FER-2013 classes.

    Raises :class:`DatasetRejected` with the reason for a CSV that is not FER-2013's (empty, a
    column missing) or a folder/zip whose layout is wrong.
    """
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            return False
        try:
            check_fer_csv(path)
        except EmokitError as exc:
            raise DatasetRejected(str(exc)) from None
        return True
    layout = layout_to_open(path)
    if layout is None:
        return False
    named = {FOLDER_ALIASES[folder.lower()] for folder in layout.class_folders if folder.lower() in FOLDER_ALIASES}
    return len(named) >= FER_LOOKALIKE_CLASSES


def load_fer2013(request: DataRequest) -> Dataset:
    """Load FER-2013 from ``request.source``: a Kaggle CSV, or a folder or zip in the Kaggle image layout."""
    check_request(request)
    if request.source is None:
        raise EmokitError("The fer2013 dataset needs a data path: the Kaggle CSV, or the image folder or its .zip.")
    path = Path(request.source)
    if not path.exists():
        raise EmokitError(f"Data path '{path}' does not exist.")
    if path.is_file() and path.suffix.lower() == ".csv":
        return _load_csv(path, request)
    return load_image_layout(request, NAME, fer_class_map)


def _load_csv(path: Path, request: DataRequest) -> Dataset:
    def build(fingerprint: str) -> tuple[Dataset, str | None]:
        parsed = read_fer_csv(path, len(FER_CLASSES))
        total = sum(len(labels) for _, labels in parsed.values())
        given = {}
        done = 0
        for split, (images, labels) in parsed.items():
            given[split] = (_to_request_shape(images, request), labels)
            done += len(labels)
            if request.progress is not None:
                request.progress(done, total)
        # The Kaggle CSV has all three splits; a CSV without Usage is unsplit, so test is carved too.
        splits = assemble_splits(given, request.val_fraction, request.seed, carve_test=None in parsed)
        return Dataset(NAME, FER_CLASSES, splits, fingerprint, str(path)), None

    return cached_load(NAME, request, build)


def _to_request_shape(images: np.ndarray, request: DataRequest) -> np.ndarray:
    """(N, 48, 48) gray -> (N, H, W, C) through the shared preprocessing (a reshape when nothing changes)."""
    size = (int(request.image_size[0]), int(request.image_size[1]))
    if size == (FER_SIDE, FER_SIDE) and request.channels == 1:
        return images[:, :, :, None]
    out = np.empty((len(images), *size, request.channels), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = to_model_input(image, size, request.channels)
    return out
