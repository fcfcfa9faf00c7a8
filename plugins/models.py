"""emokit's bundled model (through the emokit_models hook, like a third party's): ``fer2013``.

A ``vgg_fer`` at half width trained by emokit on FER-2013 (the recipe and every figure: docs/model-card.md),
exported to LiteRT with int8 weights, shipped as package data in ``emokit_plugins/models/`` with its
description ``fer2013.tflite.json`` (classes, input, face margin). It answers when no model is named:
``emokit predict photo.jpg``, ``emokit demo``, ``emokit.load()``. Nothing is read when the registry is
built; the file's SHA-256 is checked each time it is opened.

To replace the model: ``python -m emokit.inference.bundled RUN plugins/models/fer2013.tflite``, then paste
the SHA-256 it prints below, and the run's figures into docs/model-card.md and :data:`ACCURACY`.
"""

from __future__ import annotations

from importlib.resources import files

from emokit import hookimpl
from emokit.records import ModelRecord

#: The bundled file's SHA-256 (printed by ``python -m emokit.inference.bundled``); ``None`` would make this
#: plugin offer no model (commands that need one then ask the user to name a run).
SHA256: str | None = "31c489829fee7d17717c64af3300afb53bb26224e389c562b979743a4866b81e"
#: PublicTest accuracy of the bundled file itself, measured by ``emokit evaluate fer2013 --data fer2013.zip`` (its test split).
#: Measured 2026-12-07 on the file itself (docs/model-card.md): `--tta none` and `--tta ten-crop`.
ACCURACY: dict[str, float] = {"PublicTest": 0.6615, "PublicTest ten-crop": 0.6860}


@hookimpl
def emokit_models() -> list[ModelRecord]:
    """The FER-2013 model emokit ships and uses when none is named."""
    if SHA256 is None:
        return []
    return [
        ModelRecord(
            name="fer2013",
            summary="vgg_fer (half width) trained on FER-2013 by emokit, LiteRT int8 weights: 7 emotions, 48x48 gray faces",
            file=files(__package__) / "models" / "fer2013.tflite",
            sha256=SHA256,
            runtime="litert",
            trained_on="FER-2013",
            accuracy=ACCURACY,
            card="docs/model-card.md",
            default=True,
        ),
    ]
