"""The FER-2013 dataset: the Kaggle CSV, or the Kaggle image layout as a folder or .zip."""

from __future__ import annotations

from emokit import hookimpl
from emokit.data.fer2013 import can_open_fer2013, load_fer2013
from emokit.records import DatasetRecord


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    """FER-2013 in every form users have it."""
    return [
        DatasetRecord(
            name="fer2013",
            summary="FER-2013: Kaggle CSV (emotion,pixels,Usage) or image layout train/<class>/, test/<class>/ (folder or .zip)",
            load=load_fer2013,
            can_open=can_open_fer2013,
        )
    ]
