"""Built-in CNN architectures. Each returns a backend-neutral ModelSpec; none imports Keras."""

from __future__ import annotations

from emokit import hookimpl
from emokit.options import Option
from emokit.records import ArchitectureRecord, record_for
from emokit.spec import (
    Activation,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    ModelSpec,
    Node,
    Pool,
    Residual,
    SeparableConv,
)


def _width(base: int, width: float) -> int:
    return max(1, round(base * width))


def _conv_bn_relu(filters: int, kernel: int = 3, stride: int = 1, batch_norm: bool = True) -> list[Node]:
    if not batch_norm:
        return [Conv(filters, kernel, stride, activation="relu")]
    return [Conv(filters, kernel, stride, use_bias=False), BatchNorm(), Activation("relu")]


def _dense_relu(units: int, batch_norm: bool) -> list[Node]:
    # Without batch norm here, Adam at 1e-3 blows up the logits of a wide dense layer fed by
    # batch-normalised features (softmax saturates within a few batches).
    return [Dense(units), BatchNorm(), Activation("relu")] if batch_norm else [Dense(units, activation="relu")]


def _head(num_classes: int) -> list[Node]:
    return [Dense(num_classes), Activation("softmax")]


def small_cnn(
    input_shape: tuple[int, int, int],
    class_names: tuple[str, ...],
    width: float = 1.0,
    kernel_size: int = 3,
    pooling: str = "max",
    dropout: float = 0.25,
    dense_units: int = 1024,
    dense_dropout: float = 0.5,
    batch_norm: bool = True,
) -> ModelSpec:
    """A plain sequential CNN: conv+ReLU 32, 64, pool, dropout, conv 128, pool, conv 128, pool, dropout, dense, softmax.

    ``batch_norm=False`` gives that network exactly; batch norm (the default) trains faster and further.
    """
    w = lambda f: _width(f, width)  # noqa: E731
    conv = lambda f: _conv_bn_relu(w(f), kernel_size, batch_norm=batch_norm)  # noqa: E731
    layers: list[Node] = [
        *conv(32), *conv(64), Pool(pooling, 2), Dropout(dropout),
        *conv(128), Pool(pooling, 2), *conv(128), Pool(pooling, 2), Dropout(dropout),
        Flatten(), *_dense_relu(dense_units, batch_norm), Dropout(dense_dropout),
        *_head(len(class_names)),
    ]
    return ModelSpec("small_cnn", tuple(layers), input_shape, class_names,
                     options=dict(width=width, kernel_size=kernel_size, pooling=pooling, dropout=dropout,
                                  dense_units=dense_units, dense_dropout=dense_dropout, batch_norm=batch_norm))


def mini_xception(
    input_shape: tuple[int, int, int],
    class_names: tuple[str, ...],
    width: float = 1.0,
    blocks: int = 4,
    dropout: float = 0.0,
) -> ModelSpec:
    """mini-Xception (Arriaga et al. 2017): two 3x3 stem convs, residual depthwise-separable blocks, conv head + GAP.

    About 60k parameters at width 1.0 with 4 blocks (16, 32, 64, 128 filters).
    """
    layers: list[Node] = [*_conv_bn_relu(_width(8, width)), *_conv_bn_relu(_width(8, width))]
    for i in range(blocks):
        f = _width(16 * 2**i, width)
        body = (
            SeparableConv(f, 3, use_bias=False), BatchNorm(), Activation("relu"),
            SeparableConv(f, 3, use_bias=False), BatchNorm(),
            Pool("max", 3, 2, "same"),
        )
        shortcut = (Conv(f, 1, 2, use_bias=False), BatchNorm())
        layers.append(Residual(body, shortcut))
    if dropout:
        layers.append(Dropout(dropout))
    layers += [Conv(len(class_names), 3), GlobalPool("avg"), Activation("softmax")]
    return ModelSpec("mini_xception", tuple(layers), input_shape, class_names,
                     options=dict(width=width, blocks=blocks, dropout=dropout))


def vgg_fer(
    input_shape: tuple[int, int, int],
    class_names: tuple[str, ...],
    width: float = 1.0,
    stages: int = 4,
    convs_per_stage: int = 2,
    dropout: float = 0.4,
    dense_units: int = 512,
    pooling: str = "max",
) -> ModelSpec:
    """A VGG-style net of the kind reported at 72-73% on FER-2013 (Khaireddin & Chen 2021):
    stages of 3x3 conv+BN+ReLU (64, 128, 256, 512 filters), pooling after each, two dense layers."""
    layers: list[Node] = []
    for s in range(stages):
        for _ in range(convs_per_stage):
            layers += _conv_bn_relu(_width(64 * 2**min(s, 3), width))
        layers += [Pool(pooling, 2), Dropout(dropout / 2)]
    layers += [Flatten(), *_dense_relu(dense_units, True), Dropout(dropout),
               *_dense_relu(dense_units, True), Dropout(dropout), *_head(len(class_names))]
    return ModelSpec("vgg_fer", tuple(layers), input_shape, class_names,
                     options=dict(width=width, stages=stages, convs_per_stage=convs_per_stage, dropout=dropout,
                                  dense_units=dense_units, pooling=pooling))


def resnet_fer(
    input_shape: tuple[int, int, int],
    class_names: tuple[str, ...],
    width: float = 1.0,
    blocks_per_stage: int = 2,
    stages: int = 4,
    dropout: float = 0.3,
) -> ModelSpec:
    """A small ResNet: 3x3 stem, stages of basic blocks (32, 64, 128, 256 filters, stride 2 between), GAP head."""
    f0 = _width(32, width)
    layers: list[Node] = [*_conv_bn_relu(f0)]
    channels = f0
    for s in range(stages):
        f = _width(32 * 2**s, width)
        for b in range(blocks_per_stage):
            stride = 2 if (b == 0 and s > 0) else 1
            body = (*_conv_bn_relu(f, 3, stride), Conv(f, 3, use_bias=False), BatchNorm())
            shortcut = (Conv(f, 1, stride, use_bias=False), BatchNorm()) if (stride != 1 or f != channels) else ()
            layers += [Residual(body, shortcut), Activation("relu")]
            channels = f
    layers += [GlobalPool("avg"), Dropout(dropout), *_head(len(class_names))]
    return ModelSpec("resnet_fer", tuple(layers), input_shape, class_names,
                     options=dict(width=width, blocks_per_stage=blocks_per_stage, stages=stages, dropout=dropout))



# What the architectures' options allow (emokit checks every --set value against these).

#: Width scales every layer's filters; above 16 a model no longer fits in memory (parameters grow as width**2).
WIDTH = Option(above=0, at_most=16, help="Multiplies every layer's filter count")
#: Dropout drops this share of units while training; 1 would drop them all.
DROPOUT = Option(at_least=0, below=1, help="Share of units dropped while training")
#: ``Pool`` node modes (emokit.spec.Pool).
POOLING = Option(choices=("max", "avg"), help="Pooling after each stage: max or avg")
#: 16,384 units fed small_cnn's 6x6x128 features at 48 pixels already hold 75M weights.
DENSE_UNITS = Option(at_least=1, at_most=16384, help="Units in each dense layer")
#: Filters double per stage or block; past 8 a layer has thousands of filters (16 * 2**7 = 2048).
DOUBLINGS = Option(at_least=1, at_most=8)
#: Repeated layers within a stage; 8 is already far deeper than these nets are meant to be.
REPEATS = Option(at_least=1, at_most=8)
#: A kernel's weights grow as its side squared; past 15 it covers most of a 48-pixel face.
KERNEL_SIZE = Option(at_least=1, at_most=15, help="Side of every convolution's kernel")
#: Each VGG stage halves the image (2x2 pooling, no padding): a 48-pixel face allows 5, larger images a few more.
VGG_STAGES = Option(at_least=1, at_most=8, help="Conv stages, each followed by 2x2 pooling")


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    """small_cnn, mini_xception, vgg_fer and resnet_fer, with what each option allows."""
    return [
        record_for(ArchitectureRecord, small_cnn, "Sequential CNN: conv+ReLU blocks, pooling, dropout, dense, softmax; quick to train",
                   width=WIDTH, kernel_size=KERNEL_SIZE,
                   pooling=POOLING, dropout=DROPOUT, dense_units=DENSE_UNITS, dense_dropout=DROPOUT),
        record_for(ArchitectureRecord, mini_xception, "mini-Xception: ~60k parameters, residual depthwise-separable blocks",
                   width=WIDTH, blocks=DOUBLINGS, dropout=DROPOUT),
        record_for(ArchitectureRecord, vgg_fer, "VGG-style net of the kind reported at 72-73% on FER-2013",
                   width=WIDTH, stages=VGG_STAGES, convs_per_stage=REPEATS,
                   dropout=DROPOUT, dense_units=DENSE_UNITS, pooling=POOLING),
        record_for(ArchitectureRecord, resnet_fer, "A small residual network (basic blocks, 4 stages)",
                   width=WIDTH, blocks_per_stage=REPEATS, stages=DOUBLINGS, dropout=DROPOUT),
    ]
