"""``python -m emokit`` is the ``emokit`` command."""

from emokit.cli import main

main()
