"""A built-in dataset of drawn faces that needs no download (the default when no data is given)."""

from __future__ import annotations

from emokit import hookimpl
from emokit.data.synthetic import load_synthetic
from emokit.records import DatasetRecord


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    """Procedurally drawn faces with the seven FER-2013 expressions."""
    return [
        DatasetRecord(
            name="synthetic",
            summary="Drawn faces with the 7 FER-2013 expressions; no download, generated in about a second",
            load=load_synthetic,
        )
    ]
