"""Any dataset of class folders, so users can bring their own images."""

from __future__ import annotations

from emokit import hookimpl
from emokit.data.image_folder import can_open_image_folder, load_image_folder
from emokit.records import DatasetRecord


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    """A generic image-folder dataset: classes are the folder names, sorted."""
    return [
        DatasetRecord(
            name="image_folder",
            summary="Class folders of images, <class>/<img> or <split>/<class>/<img> (folder or .zip; any size, gray or RGB)",
            load=load_image_folder,
            can_open=can_open_image_folder,
        )
    ]
