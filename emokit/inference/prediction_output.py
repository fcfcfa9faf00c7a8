"""Image predictions written as CSV or JSON Lines: one row per face (and one per image without a face).

Columns: ``file``, ``face`` (1 = the largest), the box ``x, y, w, h``, the detection ``score``, one
probability per class and the top ``emotion``. An image in which no face was found gets one row with
``face`` empty (JSON ``null``) and no box, so every analysed file is listed. Files are written whole
or not at all (:func:`emokit.atomic.atomic_path`): rows stream into a temporary sibling that replaces
the file when the last row is written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from emokit.atomic import atomic_path
from emokit.inference.folders import ImageResult


def face_rows(result: ImageResult) -> list[dict[str, Any]]:
    """One JSON-ready record per face of ``result`` (one with ``face`` None when it has none)."""
    if not result.faces:
        return [{"file": str(result.path), "face": None, "box": None, "score": None, "probabilities": None, "emotion": None}]
    return [{"file": str(result.path), "face": number, "box": [f.box.x, f.box.y, f.box.w, f.box.h],
             "score": round(float(f.score), 4), "probabilities": {k: round(v, 6) for k, v in f.probabilities.items()},
             "emotion": f.emotion}
            for number, f in enumerate(result.faces, start=1)]


def csv_columns(class_names: Sequence[str]) -> list[str]:
    """The CSV header."""
    return ["file", "face", "x", "y", "w", "h", "score", *class_names, "emotion"]


def csv_row(record: dict[str, Any], class_names: Sequence[str]) -> list[Any]:
    """A :func:`face_rows` record as a CSV row (empty cells for an image without a face)."""
    if record["face"] is None:
        return [record["file"], "", "", "", "", "", "", *("" for _ in class_names), ""]
    probabilities = record["probabilities"]
    return [record["file"], record["face"], *record["box"], f"{record['score']:.4f}",
            *(f"{probabilities[name]:.4f}" for name in class_names), record["emotion"]]


class PredictionWriter:
    """Streams image results into a CSV file, a JSON Lines file, or both (either may be ``None``)."""

    def __init__(self, csv_file: IO[str] | None, jsonl_file: IO[str] | None, class_names: Sequence[str]) -> None:
        self.class_names = list(class_names)
        self._csv = csv.writer(csv_file) if csv_file is not None else None
        self._jsonl = jsonl_file
        if self._csv is not None:
            self._csv.writerow(csv_columns(self.class_names))
        #: Rows written (faces, plus images without one).
        self.rows = 0

    def write(self, result: ImageResult) -> None:
        """Append ``result``'s rows."""
        for record in face_rows(result):
            if self._csv is not None:
                self._csv.writerow(csv_row(record, self.class_names))
            if self._jsonl is not None:
                self._jsonl.write(json.dumps(record) + "\n")
            self.rows += 1


@contextmanager
def prediction_files(csv_path: Path | None, jsonl_path: Path | None, class_names: Sequence[str]) -> Iterator[PredictionWriter]:
    """A :class:`PredictionWriter` on ``csv_path`` and/or ``jsonl_path``; each replaces its file only
    when the block ends without an error (a failed run leaves any earlier file as it was)."""
    with ExitStack() as stack:
        files = []
        for path in (csv_path, jsonl_path):
            if path is None:
                files.append(None)
                continue
            tmp = stack.enter_context(atomic_path(Path(path)))
            files.append(stack.enter_context(open(tmp, "w", newline="" if path is csv_path else None, encoding="utf-8")))
        yield PredictionWriter(files[0], files[1], class_names)
