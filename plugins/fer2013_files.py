"""Reading FER-2013: the Kaggle CSV, or the Kaggle image layout as a folder or .zip (the plugin's record
is in :mod:`emokit_plugins.fer2013`).

Classes are always :data:`emokit.FER_CLASSES` (the Kaggle CSV label order), whatever order the
folders list in; folder names map to those indices, with a few common spellings accepted. A folder
that names most of the seven classes is FER-2013, so an unknown or missing class folder there is an
error rather than a different set of classes.

The CSV form is ``emotion,pixels,Usage``, one 48x48 face per row. ``Usage`` maps Training -> train,
PublicTest -> val, PrivateTest -> test. Row numbers in messages are line numbers of the file (the
header is row 1), so an editor or spreadsheet finds them. The folder form is read by the layout
code every image-folder dataset shares (:mod:`emokit.data.image_layout`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from emokit import FER_CLASSES
from emokit.data import DatasetRejected
from emokit.data.assemble import assemble_splits
from emokit.data.cache import cached_load
from emokit.data.image_layout import closest, layout_to_open, load_image_layout
from emokit.data.layout import Layout
from emokit.data.request import check_request
from emokit.errors import EmokitError
from emokit.preprocess import to_model_input
from emokit.records import DataRequest, Dataset

from .fer2013 import NAME

#: FER-2013's images are 48x48 grayscale.
FER_SIDE = 48
FER_PIXELS = FER_SIDE * FER_SIDE
#: Kaggle ``Usage`` value -> emokit split.
USAGE_SPLITS = {"training": "train", "publictest": "val", "privatetest": "test"}
REQUIRED_COLUMNS = ("emotion", "pixels")
_DIGITS_AND_SPACES = re.compile(r"[0-9 \t]*")

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


# The Kaggle CSV form ------------------------------------------------------------------------------


def check_fer_csv(path: Path) -> None:
    """Raise :class:`EmokitError` saying why ``path`` is not a FER CSV (unreadable, empty, a column missing)."""
    with _open(path) as handle:
        _read_header(csv.reader(handle), str(path))


def read_fer_csv(path: Path, num_classes: int) -> dict[str | None, tuple[np.ndarray, np.ndarray]]:
    """Parse the CSV into split -> (uint8 images (N, 48, 48), int64 labels (N,)).

    The split is ``None`` for every row when the file has no ``Usage`` column. Any malformed row
    is an :class:`EmokitError` naming the file and row: a CSV with one broken row is a broken file.
    """
    display = str(path)
    with _open(path) as handle:
        reader = csv.reader(handle)
        header = _read_header(reader, display)
        i_label, i_pixels = header.index("emotion"), header.index("pixels")
        i_usage = header.index("usage") if "usage" in header else None
        images: dict[str | None, list[np.ndarray]] = {}
        labels: dict[str | None, list[int]] = {}
        try:
            for row in reader:
                row_no = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank line
                if len(row) != len(header):
                    raise EmokitError(f"{display} row {row_no}: expected {len(header)} fields, got {len(row)}.")
                label = _parse_label(row[i_label], num_classes, display, row_no)
                split = _parse_usage(row[i_usage], display, row_no) if i_usage is not None else None
                images.setdefault(split, []).append(_parse_pixels(row[i_pixels], display, row_no))
                labels.setdefault(split, []).append(label)
        except csv.Error as exc:
            raise EmokitError(f"{display} row {reader.line_num}: not valid CSV ({exc}).") from None
        except UnicodeDecodeError:
            raise EmokitError(f"{display}: not a text CSV file (undecodable bytes).") from None
    if not labels:
        raise EmokitError(f"{display}: no data rows after the header.")
    return {
        split: (np.stack(images[split]).reshape(-1, FER_SIDE, FER_SIDE), np.asarray(labels[split], dtype=np.int64))
        for split in labels
    }


def _open(path: Path) -> TextIO:
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise EmokitError(f"{path}: cannot be read ({exc.strerror or exc}).") from None


def _read_header(reader: Iterator[list[str]], display: str) -> list[str]:
    """The header's column names, lower case; an empty file or a missing column is an :class:`EmokitError`."""
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise EmokitError(f"{display}: empty file; expected a header 'emotion,pixels,Usage'.") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise EmokitError(f"{display}: not a readable CSV file ({exc}).") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise EmokitError(
            f"{display}: missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
            f"(found: {', '.join(header)}); expected 'emotion,pixels,Usage'."
        )
    return header


def _parse_label(text: str, num_classes: int, display: str, row_no: int) -> int:
    try:
        label = int(text.strip())
    except ValueError:
        raise EmokitError(f"{display} row {row_no}: label '{text}' is not a whole number.") from None
    if not 0 <= label < num_classes:
        raise EmokitError(f"{display} row {row_no}: label {label} is out of range 0-{num_classes - 1}.")
    return label


def _parse_usage(text: str, display: str, row_no: int) -> str:
    split = USAGE_SPLITS.get(text.strip().lower())
    if split is None:
        raise EmokitError(f"{display} row {row_no}: unknown Usage '{text}' (expected Training, PublicTest or PrivateTest).")
    return split


def _parse_pixels(text: str, display: str, row_no: int) -> np.ndarray:
    # Digits and spaces only: then NumPy's parser (about 6x faster than str.split for 2304 values)
    # cannot meet text it would warn about.
    if _DIGITS_AND_SPACES.fullmatch(text):
        values = np.fromstring(text, dtype=np.int32, sep=" ")
        if values.size == FER_PIXELS:
            if values.max(initial=0) > 255:
                raise EmokitError(f"{display} row {row_no}: pixel value {values[values > 255][0]} is outside 0-255.")
            return values.astype(np.uint8)
    tokens = text.split()
    for token in tokens:
        if not token.isdigit():
            if token.startswith("-") and token[1:].isdigit():
                raise EmokitError(f"{display} row {row_no}: pixel value {token} is outside 0-255.")
            raise EmokitError(f"{display} row {row_no}: pixel value '{token}' is not a whole number.")
    raise EmokitError(f"{display} row {row_no}: expected {FER_PIXELS} pixel values, got {len(tokens)}.")
