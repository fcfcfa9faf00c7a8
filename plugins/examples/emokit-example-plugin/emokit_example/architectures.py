"""A LeNet-5-style CNN described as an emokit ModelSpec (no Keras import: the spec is plain data)."""

from __future__ import annotations

from emokit.spec import Activation, Conv, Dense, Dropout, Flatten, ModelSpec, Node, Pool


def lenet(
    input_shape: tuple[int, int, int],
    class_names: tuple[str, ...],
    width: float = 1.0,
    dense_units: int = 120,
    dropout: float = 0.25,
    pooling: str = "max",
) -> ModelSpec:
    """LeNet-5 (LeCun et al. 1998) for 48x48 faces: two 5x5 conv+pool stages, two dense layers, softmax.

    ``width`` scales every layer's size (0.25 gives a model that trains an epoch in seconds on a CPU).
    """
    size = lambda n: max(1, round(n * width))  # noqa: E731 - a one-line scaling rule
    layers: list[Node] = [
        Conv(size(6), 5, activation="relu"), Pool(pooling, 2),
        Conv(size(16), 5, activation="relu"), Pool(pooling, 2),
        Flatten(),
        Dense(size(dense_units), activation="relu"), Dropout(dropout),
        Dense(size(84), activation="relu"),
        Dense(len(class_names)), Activation("softmax"),
    ]
    # ``options`` is stored in the run's spec.json, so record every option the model was built with.
    return ModelSpec("lenet", tuple(layers), input_shape, class_names,
                     options=dict(width=width, dense_units=dense_units, dropout=dropout, pooling=pooling))
