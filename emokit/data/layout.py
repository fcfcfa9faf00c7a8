"""Find the class folders (and split folders) in a listing of files.

Two layouts are understood, at the top of the source or under one wrapping folder
(``archive/train/...``):

* ``<split>/<class>/<image>`` where split is train/training, val/valid/validation or test/testing;
* ``<class>/<image>`` (no splits; the caller carves them).

Images may sit deeper inside a class folder; the first folder below the split names the class.
Files whose suffix is not an image format are ignored (README.txt, labels.csv, Thumbs.db).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from emokit.errors import EmokitError

#: Suffixes read as images; other files in a dataset folder are ignored.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm"})

#: Folder name (lower case) -> split name.
SPLIT_FOLDERS: Mapping[str, str] = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}


@dataclass(frozen=True)
class Layout:
    """The images of a source grouped by split and class folder."""

    #: split ("train", "val", "test"; ``None`` when the source has no split folders) ->
    #: class folder name -> relative paths of its images, sorted.
    splits: Mapping[str | None, Mapping[str, list[str]]]
    #: Non-image files that were ignored.
    ignored: int
    #: split -> the relative path its class folders are in, with a trailing ``/`` (``""`` at the top),
    #: so messages name a class folder as the user sees it (``archive/train/hapy``).
    prefixes: Mapping[str | None, str]

    @property
    def class_folders(self) -> list[str]:
        """Every class folder name in any split, sorted."""
        return sorted({name for classes in self.splits.values() for name in classes})

    def folder(self, split: str | None, name: str) -> str:
        """A class folder's relative path as the user sees it, e.g. ``train/happy``."""
        return self.prefixes[split] + name


def is_image_name(name: str) -> bool:
    """Whether a file name has an image suffix."""
    return PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES


def scan_layout(files: list[str], folders: list[str], display: str) -> Layout:
    """Group ``files`` (relative POSIX paths) into splits and class folders.

    Split folders may leave out ``train``: a ``test/`` folder alone is another dataset's test split,
    which can be evaluated on (training refuses a dataset without training images).

    Raises :class:`EmokitError` naming ``display`` for a source with no class folders, with split
    folders mixed with other folders, with two folders for one split, or with an empty class folder.
    """
    root = _find_root(files, folders)
    children = _subfolders(folders, root)
    if not children:
        raise EmokitError(f"{display}: no class folders found (expected <class>/<image> or <split>/<class>/<image>).")
    split_children = [c for c in children if c.lower() in SPLIT_FOLDERS]
    other = [c for c in children if c.lower() not in SPLIT_FOLDERS]
    if split_children and other:
        raise EmokitError(
            f"{display}: mixes split folders ({', '.join(split_children)}) with other folders ({', '.join(other)}); "
            "expected either <split>/<class>/<image> or <class>/<image>."
        )
    under_root = [f[len(root):] for f in files if f.startswith(root)]
    ignored = 0
    splits: dict[str | None, dict[str, list[str]]] = {}
    prefixes: dict[str | None, str] = {}
    if split_children:
        loose, by_split = _bucket(under_root)
        _check_loose(loose, root, display)
        ignored += len(loose)
        for child in split_children:
            split = SPLIT_FOLDERS[child.lower()]
            if split in splits:
                raise EmokitError(f"{display}: two folders for the '{split}' split; keep one of them.")
            prefix = root + child + "/"
            classes, skipped = _class_files(by_split.get(child, []), _subfolders(folders, prefix), prefix, display)
            splits[split], prefixes[split] = classes, prefix
            ignored += skipped
    else:
        splits[None], ignored = _class_files(under_root, children, root, display)
        prefixes[None] = root
    return Layout(splits, ignored, prefixes)


def _find_root(files: list[str], folders: list[str]) -> str:
    """The prefix holding the layout: descend through single wrapping folders (``archive/``)."""
    root = ""
    for _ in range(4):  # a wrapper rarely nests deeper; bounded so a deep tree is not walked forever
        children = _subfolders(folders, root)
        if len(children) != 1 or children[0].lower() in SPLIT_FOLDERS:
            break
        if any(f.startswith(root) and "/" not in f[len(root):] and is_image_name(f) for f in files):
            break  # loose images here: this level is the layout
        candidate = root + children[0] + "/"
        if not _subfolders(folders, candidate):
            break  # a lone folder of images is a class folder, not a wrapper
        root = candidate
    return root


def _subfolders(folders: list[str], prefix: str) -> list[str]:
    """Names of the folders directly under ``prefix``."""
    return sorted({f[len(prefix):] for f in folders if f.startswith(prefix) and f != prefix.rstrip("/") and "/" not in f[len(prefix):]})


def _bucket(paths: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(files directly here, first folder -> paths below it relative to that folder), in one pass."""
    loose: list[str] = []
    below: dict[str, list[str]] = {}
    for path in paths:
        head, sep, rest = path.partition("/")
        if sep:
            below.setdefault(head, []).append(rest)
        else:
            loose.append(path)
    return loose, below


def _check_loose(loose: list[str], prefix: str, display: str) -> None:
    """Images must be inside class folders; other loose files (README.txt) are fine."""
    for name in loose:
        if is_image_name(name):
            raise EmokitError(f"{display}: image '{prefix}{name}' is not inside a class folder.")


def _class_files(paths: list[str], class_folders: list[str], prefix: str, display: str) -> tuple[dict[str, list[str]], int]:
    """class folder -> its image files (full relative paths, any depth), and how many non-images were ignored.

    ``paths`` are relative to ``prefix``.
    """
    loose, below = _bucket(paths)
    _check_loose(loose, prefix, display)
    ignored = len(loose)
    classes: dict[str, list[str]] = {}
    for name in class_folders:
        images = [f"{prefix}{name}/{rest}" for rest in below.get(name, []) if is_image_name(rest)]
        ignored += len(below.get(name, [])) - len(images)
        if not images:
            raise EmokitError(f"{display}: class folder '{prefix}{name}' has no images.")
        classes[name] = sorted(images)
    return classes, ignored
