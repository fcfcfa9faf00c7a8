"""The synthetic dataset plugin: procedurally drawn faces with seven expressions, no download needed.

It is the dataset used when no data is given (:data:`emokit.data.DEFAULT_DATASET`). The drawing is
in :mod:`emokit_plugins.synthetic_faces`, imported when the dataset loads: ``emokit --help`` imports
this module, and OpenCV with numpy would cost it a fifth of a second.
"""

from __future__ import annotations

from emokit import hookimpl
from emokit.data import SYNTHETIC
from emokit.records import DatasetRecord, LazyImport


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    """Procedurally drawn faces with the seven FER-2013 expressions."""
    return [
        DatasetRecord(
            name=SYNTHETIC,
            summary="Drawn faces with the 7 FER-2013 expressions; no download, generated in about a second",
            load=LazyImport("emokit_plugins.synthetic_faces:load_synthetic"),
        )
    ]
