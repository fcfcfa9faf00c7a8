"""Per-face predictions of an evaluated split, kept in the run folder so runs can be compared face by face.

Every evaluation of a run (the end of ``emokit train``, ``emokit evaluate RUN``) writes
``RUN/predictions/<split>.npz``: the true labels, the predicted probabilities, what evaluated them,
and two identities of the faces. A later evaluation of the same split replaces the file (it is
labelled with its evaluator, so ``emokit runs compare`` can say which evaluation it tests).

* ``faces_id``: the dataset (name and fingerprint), the split and its labels in order. Two runs'
  predictions with the same ``faces_id`` are on the same faces in the same order, even when the
  runs resized them differently (FER-2013 at 48 and at 64 pixels); that is what a paired test needs.
* ``pixels_digest``: the SHA-256 of the very pixels the model saw, to tell "the same inputs" apart
  from "the same faces, preprocessed differently".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emokit.atomic import atomic_path
from emokit.errors import EmokitError
from emokit.records import Dataset


@dataclass(frozen=True)
class SplitPredictions:
    """One split's per-face predictions: true labels (N,), probabilities (N, classes), and their provenance."""

    split: str
    labels: np.ndarray
    probabilities: np.ndarray
    class_names: tuple[str, ...]
    #: The dataset's name (``synthetic``, ``fer2013``).
    dataset: str
    #: Which faces, in which order (see the module docstring).
    faces_id: str
    #: SHA-256 of the pixels evaluated.
    pixels_digest: str
    #: What ran the model: the runtime's label (``keras+torch``, ``onnx+flip``).
    evaluator: str

    @property
    def predicted(self) -> np.ndarray:
        """The predicted class index of each face."""
        return self.probabilities.argmax(axis=1)

    @property
    def correct(self) -> np.ndarray:
        """Whether each face was classified right (bool, (N,))."""
        return self.predicted == self.labels

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean()) if len(self.labels) else float("nan")


def faces_id(dataset: Dataset, split: str) -> str:
    """The identity of ``dataset``'s ``split``: dataset name and fingerprint, split name, labels in order."""
    labels = np.ascontiguousarray(dataset.splits[split].labels, dtype="<i8")
    digest = hashlib.sha256(f"{dataset.name}\0{dataset.fingerprint}\0{split}\0{len(labels)}\0".encode())
    digest.update(labels.tobytes())
    return digest.hexdigest()


def pixels_digest(images: np.ndarray) -> str:
    """SHA-256 of a batch of images (shape, dtype and bytes)."""
    images = np.ascontiguousarray(images)
    digest = hashlib.sha256(f"{images.shape}\0{images.dtype.str}\0".encode())
    digest.update(images.tobytes())
    return digest.hexdigest()


def split_predictions(dataset: Dataset, split: str, probabilities: np.ndarray, class_names: tuple[str, ...],
                      evaluator: str) -> SplitPredictions:
    """The record of ``probabilities`` predicted for ``dataset``'s ``split``."""
    data = dataset.splits[split]
    return SplitPredictions(split=split, labels=np.asarray(data.labels, dtype=np.int64),
                            probabilities=np.asarray(probabilities, dtype=np.float32), class_names=tuple(class_names),
                            dataset=dataset.name, faces_id=faces_id(dataset, split),
                            pixels_digest=pixels_digest(data.images), evaluator=evaluator)


def predictions_file(folder: Path, split: str) -> Path:
    """Where ``split``'s predictions live under ``folder`` (a run's ``predictions/``)."""
    return Path(folder) / f"{split}.npz"


def write_predictions(folder: Path, predictions: SplitPredictions) -> Path:
    """Write ``predictions`` atomically to ``folder/<split>.npz``; returns the path."""
    path = predictions_file(folder, predictions.split)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:  # a handle: np.savez would append ".npz" to a name
        np.savez_compressed(
            handle, labels=predictions.labels, probabilities=predictions.probabilities,
            class_names=np.array(predictions.class_names, dtype=str), split=np.array(predictions.split),
            dataset=np.array(predictions.dataset), faces_id=np.array(predictions.faces_id),
            pixels_digest=np.array(predictions.pixels_digest), evaluator=np.array(predictions.evaluator))
    return path


def read_predictions(path: Path) -> SplitPredictions | None:
    """The predictions stored at ``path``, or ``None`` if there are none; a damaged file is a one-line error naming it."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            labels, probabilities = stored["labels"], stored["probabilities"]
            if labels.ndim != 1 or probabilities.shape[:1] != labels.shape or probabilities.ndim != 2:
                raise ValueError(f"labels {labels.shape} and probabilities {probabilities.shape} do not match")
            return SplitPredictions(
                split=str(stored["split"]), labels=labels.astype(np.int64), probabilities=probabilities,
                class_names=tuple(str(name) for name in stored["class_names"]), dataset=str(stored["dataset"]),
                faces_id=str(stored["faces_id"]), pixels_digest=str(stored["pixels_digest"]),
                evaluator=str(stored["evaluator"]))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise EmokitError(f"'{path}' is not a readable predictions file ({type(exc).__name__}: {exc}); "
                          "write it again with: emokit evaluate RUN") from None
