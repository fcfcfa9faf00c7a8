"""Many images at once: what the user named (files, folders searched recursively, videos) sorted
into images and videos, and the images' faces classified in batches across images.

A folder's files are found recursively (hidden files and folders, names starting with ".", are
left out). A file is an image or a video by its suffix; a named file whose suffix says neither is an
image if Pillow reads its header, else a video if OpenCV opens it (a folder's such files are tried
as images). A file that turns out unreadable or not
an image is *skipped*: counted and named (:class:`Skipped`), never fatal, so one bad file in a
folder of thousands costs only itself.

Faces are classified across images: the faces of consecutive images are gathered until there are
``batch_size`` of them, then classified in one runtime call (a call for a frame's one or two faces
pays the runtime's fixed cost each time; see ``benchmarks/bench_media.py`` for the gain).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from emokit.errors import EmokitError
from emokit.inference.frames import Face, FramePipeline
from emokit.inference.image_files import check_image_files
from emokit.inference.video import VIDEO_SUFFIXES, check_video_file, opens_as_video
from emokit.preprocess import decode_image
from emokit.records import Box

#: Faces per runtime call when classifying across images.
DEFAULT_BATCH_FACES = 64


@dataclass(frozen=True)
class Skipped:
    """A file that could not be analysed, and why (one line that names it). ``named``: the user named
    this file itself (rather than a folder holding it)."""

    path: Path
    reason: str
    named: bool = False


@dataclass(frozen=True)
class ImageResult:
    """One image's faces (largest first), as the frame pipeline finds and classifies them."""

    path: Path
    faces: list[Face]


@dataclass
class Inputs:
    """What the user named, sorted: image files, video files, and files already known to be skipped."""

    images: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: The files the user named themselves (not found in a folder): their failures are the user's errors.
    named: set[Path] = field(default_factory=set)
    #: The folders named.
    folders: list[Path] = field(default_factory=list)


@lru_cache(maxsize=1)
def image_suffixes() -> frozenset[str]:
    """Every suffix Pillow reads (``.jpg``, ``.png``, ``.webp``...), lower case."""
    from PIL import Image  # noqa: PLC0415

    return frozenset(suffix.lower() for suffix in Image.registered_extensions())


def media_kind(path: Path, sniff: bool = True) -> str:
    """``image`` or ``video`` for an existing file: by its suffix, else (``sniff``) by what reads it:
    ``image`` when Pillow reads its header or nothing does (decoding it then says what is wrong)."""
    suffix = path.suffix.lower()
    if suffix in image_suffixes():
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if not sniff:
        return "image"
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    try:
        with Image.open(path):
            return "image"
    except (UnidentifiedImageError, OSError, ValueError):
        pass
    return "video" if opens_as_video(path) else "image"


def folder_files(folder: Path) -> list[Path]:
    """The files under ``folder``, recursively, sorted, without hidden ones (names starting with ".")."""
    found = []
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if any(part.startswith(".") for part in parts) or not path.is_file():
            continue
        found.append(path)
    return sorted(found)


def collect_inputs(paths: Iterable[str | Path]) -> Inputs:
    """Sort the paths a user named into images and videos (folders searched recursively).

    A named file that is missing, empty or unreadable is an error now, before any model loads (as
    for a single image); the files found in folders are only checked when analysed, and skipped then.
    """
    inputs = Inputs()
    for path in map(Path, paths):
        if path.is_dir():
            inputs.folders.append(path)
            for file in folder_files(path):
                # By suffix only: opening every odd file of a big folder with FFmpeg would be slow and noisy.
                (inputs.videos if media_kind(file, sniff=False) == "video" else inputs.images).append(file)
            continue
        if path.suffix.lower() in VIDEO_SUFFIXES:
            check_video_file(path)
            kind = "video"
        else:
            (path,) = check_image_files([path])
            kind = media_kind(path)
        inputs.named.add(path)
        (inputs.videos if kind == "video" else inputs.images).append(path)
    return inputs


def read_for_detection(pipeline: FramePipeline, path: Path) -> tuple[list[Box], np.ndarray]:
    """Decode ``path`` and find, crop and preprocess its faces: their boxes and the model-input batch."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmokitError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    image = decode_image(data, str(path))
    boxes = pipeline.detect(image)
    _, batch = pipeline.crop(image, boxes)
    return boxes, batch


def predict_files(pipeline: FramePipeline, paths: Iterable[Path], *, batch_size: int = DEFAULT_BATCH_FACES,
                  named: set[Path] | frozenset[Path] = frozenset(),
                  advance: Callable[[int], None] | None = None) -> Iterator[ImageResult | Skipped]:
    """Each image's faces, in the order of ``paths``, or why it was skipped.

    Faces of consecutive images are classified together, ``batch_size`` at a time (1: each image on
    its own, as the frame pipeline's ``analyze`` does). ``advance(1)`` is called as each file is read.
    """
    if batch_size < 1:
        raise EmokitError(f"--batch must be 1 or more faces, got {batch_size}.")
    pending: list[tuple[Path, list[Box], np.ndarray] | Skipped] = []
    waiting = 0
    for path in paths:
        try:
            boxes, batch = read_for_detection(pipeline, path)
            pending.append((path, boxes, batch))
            waiting += len(boxes)
        except EmokitError as exc:
            pending.append(Skipped(path, str(exc), path in named))
        if advance is not None:
            advance(1)
        if waiting >= batch_size:
            yield from _classified(pipeline, pending)
            pending, waiting = [], 0
    yield from _classified(pipeline, pending)


def _classified(pipeline: FramePipeline, pending: list[tuple[Path, list[Box], np.ndarray] | Skipped]) -> Iterator[ImageResult | Skipped]:
    """The pending images' faces classified in one runtime call, and the skipped files, in order."""
    batches = [item[2] for item in pending if not isinstance(item, Skipped)]
    if not batches:
        yield from pending  # only skipped files (or none)
        return
    probabilities = pipeline.classify(np.concatenate(batches))
    names = pipeline.class_names
    start = 0
    for item in pending:
        if isinstance(item, Skipped):
            yield item
            continue
        path, boxes, _ = item
        rows = probabilities[start:start + len(boxes)]
        start += len(boxes)
        yield ImageResult(path, [Face(box, {name: float(p) for name, p in zip(names, row)}) for box, row in zip(boxes, rows)])
