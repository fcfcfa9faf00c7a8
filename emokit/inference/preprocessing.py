"""How a detected face becomes model input, recorded in the run so it predicts the same way everywhere.

Training writes ``RUN/preprocessing.json`` (a versioned section); the inference layer reads it. A run
from before the file existed gets the values emokit used then (:data:`LEGACY`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emokit.errors import EmokitError

if TYPE_CHECKING:
    from emokit.runs import Run
    from emokit.spec import ModelSpec

#: The section's format version; a reader refuses a newer one by name instead of guessing.
VERSION = 1
FILE = "preprocessing.json"
#: The crop margin around a detected face, as a share of the box side per side.
DEFAULT_MARGIN = 0.2
#: The ten-crop TTA crop side as a share of the input side (chosen on validation, docs/results.md).
DEFAULT_TTA_CROP = 15 / 16


@dataclass(frozen=True)
class Preprocessing:
    """Face margin, model input size and channels, and the ten-crop TTA crop fraction."""

    input_size: tuple[int, int] = (48, 48)
    channels: int = 1
    margin: float = DEFAULT_MARGIN
    tta_crop: float = DEFAULT_TTA_CROP
    version: int = VERSION

    @classmethod
    def for_spec(cls, spec: ModelSpec) -> Preprocessing:
        """Today's preprocessing for a model of this input shape."""
        height, width, channels = spec.input_shape
        return cls(input_size=(height, width), channels=channels)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["input_size"] = list(self.input_size)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Preprocessing:
        """Read a section written by :meth:`to_dict`; ``where`` names the file in errors."""
        version = data.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise EmokitError(f"{where}: preprocessing version {version!r} is newer than this emokit reads ({VERSION}); upgrade emokit.")
        try:
            height, width = (int(v) for v in data["input_size"])
            return cls((height, width), int(data["channels"]), float(data["margin"]), float(data["tta_crop"]), version)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmokitError(f"{where}: malformed preprocessing section ({type(exc).__name__}: {exc}).") from None


def write_preprocessing(run: Run, preprocessing: Preprocessing) -> Path:
    """Write ``RUN/preprocessing.json`` (atomically)."""
    from emokit.atomic import write_json  # noqa: PLC0415

    path = run.path / FILE
    write_json(path, preprocessing.to_dict())
    return path


def read_preprocessing(run: Run) -> Preprocessing:
    """The run's preprocessing; a run without the file (made before it existed) gets today's defaults for its spec."""
    path = Path(run.path) / FILE
    if not path.exists():
        return Preprocessing.for_spec(run.spec())
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise EmokitError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    return Preprocessing.from_dict(data, str(path))
