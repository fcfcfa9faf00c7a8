"""Classification metrics from probabilities: accuracy, loss, per-class precision/recall/F1, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def classification_metrics(probabilities: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    """Every metric emokit reports for one split, as plain JSON-ready data."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, len(class_names))
    true_per_class = matrix.sum(axis=1)
    predicted_per_class = matrix.sum(axis=0)
    hits = np.diag(matrix)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_per_class > 0, hits / predicted_per_class, 0.0)
        recall = np.where(true_per_class > 0, hits / true_per_class, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    picked = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean()) if len(labels) else float("nan")
    return {
        "images": int(len(labels)),
        "accuracy": float((predicted == labels).mean()) if len(labels) else float("nan"),
        "loss": loss,
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(true_per_class[i])}
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": matrix.tolist(),
    }
