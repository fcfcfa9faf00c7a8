"""The image-folder dataset plugin: any dataset of class folders, so users can bring their own images.

Class names are the folder names, sorted alphabetically. The layout (``<class>/<image>`` or
``<split>/<class>/<image>``, folder or .zip) is read by :mod:`emokit.data.image_layout`, which FER-2013 shares.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from emokit import hookimpl
from emokit.data import DatasetRejected
from emokit.errors import EmokitError
from emokit.records import DataRequest, Dataset, DatasetRecord

if TYPE_CHECKING:
    from emokit.data.layout import Layout

# emokit.data.image_layout (numpy, OpenCV) is imported where a path is checked or loaded: `emokit --help`
# imports this module.

NAME = "image_folder"


def sorted_class_map(layout: Layout, display: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """Class names = folder names sorted alphabetically; at least two are needed to classify.

    A class folder in ``val`` or ``test`` that ``train`` lacks is an error: it would add a class the
    model never learns (usually a misspelt folder), shifting every label after it.
    """
    from emokit.data.image_layout import closest  # noqa: PLC0415

    names = tuple(layout.class_folders)
    if len(names) < 2:
        raise EmokitError(f"{display}: found {len(names)} class folder ({', '.join(names)}); at least 2 are needed.")
    learnt = layout.splits.get("train")
    if learnt is not None:
        for split in ("val", "test"):
            for folder in layout.splits.get(split, {}):
                if folder not in learnt:
                    meant = closest(folder, learnt)
                    raise EmokitError(f"{display}: class folder '{layout.folder(split, folder)}' is not in train "
                                      f"({', '.join(sorted(learnt))})" + (f"; did you mean '{meant}'?" if meant else "."))
    return names, {name: i for i, name in enumerate(names)}


def can_open_image_folder(path: Path) -> bool:
    """A folder or zip with at least two class folders of images (split folders optional).

    Raises :class:`DatasetRejected` with the reason for a folder or zip that does not fit.
    """
    from emokit.data.image_layout import layout_to_open  # noqa: PLC0415

    layout = layout_to_open(path)
    if layout is None:
        return False
    try:
        sorted_class_map(layout, str(path))
    except EmokitError as exc:
        raise DatasetRejected(str(exc)) from None
    return True


def load_image_folder(request: DataRequest) -> Dataset:
    """Load ``request.source``: ``<class>/<image>`` or ``<split>/<class>/<image>``, any size, gray or RGB."""
    from emokit.data.image_layout import load_image_layout  # noqa: PLC0415

    return load_image_layout(request, NAME, sorted_class_map)


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    """A generic image-folder dataset: classes are the folder names, sorted."""
    return [
        DatasetRecord(
            name=NAME,
            summary="Class folders of images, <class>/<img> or <split>/<class>/<img> (folder or .zip; any size, gray or RGB)",
            load=load_image_folder,
            can_open=can_open_image_folder,
        )
    ]
