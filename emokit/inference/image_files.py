"""Image files a user names: checked before any model loads, then read as bytes for the frame pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from emokit.errors import EmokitError


def check_image_files(images: Iterable[str | Path]) -> list[Path]:
    """The image paths, each checked to be a readable, non-empty file: these errors need no model, so
    they come before one loads (which takes seconds), not after it.

    This is the one check of image paths for ``emokit predict`` and the Python API; the files are
    then read as bytes and decoded by :func:`emokit.preprocess.decode_image` (the frame pipeline's
    decode stage), which reports what is wrong inside a file.
    """
    paths = [Path(image) for image in images]
    for path in paths:
        check_input_file(path, "Image", "an image", f"; pass the images in it (e.g. {path}/*.jpg)")
    return paths


def check_input_file(path: Path, label: str, noun: str, folder_hint: str = "") -> Path:
    """``path`` if it is an existing, non-empty, readable file; else a one-line error naming it as
    ``label`` ("Image", "Video"), what it should be as ``noun`` ("an image"), plus ``folder_hint`` for a folder."""
    if not path.exists():
        raise EmokitError(f"{label} '{path}' does not exist.")
    if path.is_dir():
        raise EmokitError(f"{label} '{path}' is a folder, not {noun} file{folder_hint}.")
    if path.stat().st_size == 0:
        raise EmokitError(f"{path}: empty file (0 bytes), not {noun}.")
    if not os.access(path, os.R_OK):
        raise EmokitError(f"{label} '{path}' cannot be read: permission denied.")
    return path


def image_bytes(path: Path) -> bytes:
    """The bytes of a file :func:`check_image_files` accepted (it may have gone since: one line then)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EmokitError(f"Image '{path}' cannot be read: {exc.strerror or exc}.") from None
