"""Any dataset of class folders: class names are the folder names, sorted alphabetically."""

from __future__ import annotations

from pathlib import Path

from emokit.data.image_layout import load_image_layout, read_layout
from emokit.errors import EmokitError
from emokit.records import DataRequest, Dataset

NAME = "image_folder"


def sorted_class_map(folders: list[str], display: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """Class names = folder names sorted alphabetically; at least two are needed to classify."""
    names = tuple(sorted(folders))
    if len(names) < 2:
        raise EmokitError(f"{display}: found {len(names)} class folder ({', '.join(names)}); at least 2 are needed.")
    return names, {name: i for i, name in enumerate(names)}


def can_open_image_folder(path: Path) -> bool:
    """A folder or zip with at least two class folders of images (split folders optional)."""
    if not (path.is_dir() or path.suffix.lower() == ".zip"):
        return False
    try:
        return len(read_layout(path).class_folders) >= 2
    except EmokitError:
        return False


def load_image_folder(request: DataRequest) -> Dataset:
    """Load ``request.source``: ``<class>/<image>`` or ``<split>/<class>/<image>``, any size, gray or RGB."""
    return load_image_layout(request, NAME, sorted_class_map)
