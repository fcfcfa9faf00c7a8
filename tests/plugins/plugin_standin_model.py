"""A bundled-model plugin for tests: the stand-in for emokit's ``fer2013`` until the real file is added.

Its model is a tiny synthetic run exported the way the real one is (LiteRT, int8 weights) and bundled
with ``emokit.inference.bundled.write_bundle`` into the folder ``$EMOKIT_TEST_STANDIN`` names, which
also holds ``record.json`` (the SHA-256 and accuracy a package would write into its record). Without
the variable it provides nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from emokit import hookimpl
from emokit.records import ModelRecord

#: The folder holding standin.tflite, its sidecar and record.json.
FOLDER_ENV = "EMOKIT_TEST_STANDIN"
NAME = "standin"


@hookimpl
def emokit_models() -> list[ModelRecord]:
    folder = os.environ.get(FOLDER_ENV)
    if not folder:
        return []
    facts = json.loads((Path(folder) / "record.json").read_text())
    return [ModelRecord(
        name=NAME,
        summary="A tiny small_cnn trained on synthetic faces, exported like the bundled model (tests only)",
        file=Path(folder) / f"{NAME}.tflite",
        sha256=facts["sha256"],
        runtime="litert",
        trained_on="synthetic faces (stand-in)",
        accuracy=facts.get("accuracy", {}),
        card="docs/model-card.md",
        default=True,
    )]
