"""FER-2013 in every form users have it: the Kaggle CSV, or the Kaggle image layout as a folder or zip.

Classes are always :data:`emokit.FER_CLASSES` (the Kaggle CSV label order), whatever order the
folders list in; folder names map to those indices, with a few common spellings accepted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emokit import FER_CLASSES
from emokit.data.assemble import assemble_splits
from emokit.data.cache import cached_load
from emokit.data.fer_csv import FER_SIDE, looks_like_fer_csv, read_fer_csv
from emokit.data.image_layout import load_image_layout, read_layout
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


def fer_class_map(folders: list[str], display: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """FER_CLASSES and the label of each folder; an unknown folder name is an :class:`EmokitError`."""
    label_of: dict[str, int] = {}
    for folder in folders:
        canonical = FOLDER_ALIASES.get(folder.lower())
        if canonical is None:
            raise EmokitError(
                f"{display}: unknown class folder '{folder}'; FER-2013 classes are {', '.join(FER_CLASSES)} "
                "(use the image_folder dataset for other classes)."
            )
        label_of[folder] = FER_CLASSES.index(canonical)
    return FER_CLASSES, label_of


def can_open_fer2013(path: Path) -> bool:
    """A FER CSV, or a folder/zip whose class folders are all FER-2013 classes."""
    if path.suffix.lower() == ".csv":
        return looks_like_fer_csv(path)
    try:
        folders = read_layout(path).class_folders
    except EmokitError:
        return False
    return bool(folders) and all(f.lower() in FOLDER_ALIASES for f in folders)


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
        splits = assemble_splits(given, request.val_fraction, request.seed, carve_test=None in parsed, display=str(path))
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
