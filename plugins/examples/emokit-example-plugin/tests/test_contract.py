"""The example plugin's own tests: what a third-party plugin author would write.

Run with ``pytest plugins/examples/emokit-example-plugin/tests`` after installing the package.
"""

from __future__ import annotations

import numpy as np

from emokit.testing import assert_plugin_contract


def test_plugin_meets_the_emokit_contract():
    """Imports without Keras, records well formed, lenet and gamma work on every installed backend."""
    assert_plugin_contract("emokit_example.plugin")


def test_lenet_width_scales_the_layers():
    from emokit_example.architectures import lenet

    narrow = lenet((48, 48, 1), ("a", "b"), width=0.5)
    assert narrow.layers[0].filters == 3 and narrow.layers[-2].units == 2


def test_whole_image_detector_finds_the_central_square():
    from emokit_example.faces import WholeImageDetector

    (box,) = WholeImageDetector(margin=0.1).detect(np.zeros((100, 60), np.uint8))
    assert (box.x, box.y, box.w, box.h) == (6, 26, 48, 48)
