"""``emokit faces-count IMAGE...``: how many faces a detector finds in each photo, and where.

A command is a Typer function; its module is imported only when the command runs (the hook names
it with ``LazyImport``), so this module may import what it likes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from PIL import Image

from emokit.errors import EmokitError
from emokit.registry import Registry, build_registry


def faces_count(
    ctx: typer.Context,
    images: list[Path] = typer.Argument(..., help="Photos to look for faces in."),
    detector: str = typer.Option("haar", "--detector", help="Face detector (see `emokit plugins`)."),
) -> None:
    """Count the faces a detector finds in each photo, and print their boxes."""
    registry = ctx.find_object(Registry) or build_registry()  # emokit passes its registry in the context
    finder = registry.get("face_detector", detector)
    found = finder.create(**finder.options)
    for path in images:
        if not path.is_file():
            raise EmokitError(f"Image '{path}' does not exist.")
        pixels = np.asarray(Image.open(path).convert("RGB"))
        boxes = found.detect(pixels)
        print(f"{path}: {len(boxes)} face{'' if len(boxes) == 1 else 's'}")
        for box in boxes:
            print(f"  x={box.x} y={box.y} w={box.w} h={box.h} score={box.score:.2f}")
