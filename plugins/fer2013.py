"""The FER-2013 dataset plugin: the Kaggle CSV, or the Kaggle image layout as a folder or .zip.

The reading is in :mod:`emokit_plugins.fer2013_files`, imported when a path is checked or loaded:
``emokit --help`` imports this module, and numpy with OpenCV would cost it a fifth of a second.
"""

from __future__ import annotations

from emokit import hookimpl
from emokit.records import DatasetRecord, LazyImport

NAME = "fer2013"


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    """FER-2013 in every form users have it."""
    return [
        DatasetRecord(
            name=NAME,
            summary="FER-2013: Kaggle CSV (emotion,pixels,Usage) or image layout train/<class>/, test/<class>/ (folder or .zip)",
            load=LazyImport("emokit_plugins.fer2013_files:load_fer2013"),
            can_open=LazyImport("emokit_plugins.fer2013_files:can_open_fer2013"),
        )
    ]
