"""Known native noise (LiteRT's XNNPACK line) is dropped from standard error; every other line still shows, in order."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import os, sys
from emokit.inference.native_log import XNNPACK_INFO, without_native_lines
print("before", file=sys.stderr)
with without_native_lines(XNNPACK_INFO):
    os.write(2, XNNPACK_INFO + b"\\n")      # what LiteRT's C++ writes when tensors are allocated
    os.write(2, b"WARNING: a real native warning\\n")
    print("python inside", file=sys.stderr)
print("after", file=sys.stderr)
"""


def test_the_xnnpack_line_goes_and_the_rest_stays_in_order():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["before", "WARNING: a real native warning", "python inside", "after"]


def test_an_error_inside_still_restores_standard_error():
    code = CODE.replace('print("after", file=sys.stderr)', "") + (
        "try:\n    with without_native_lines(XNNPACK_INFO):\n        raise RuntimeError('boom')\n"
        "except RuntimeError:\n    print('restored', file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.splitlines()[-1] == "restored", done.stderr
