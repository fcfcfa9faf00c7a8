"""Calls ``sys.exit()`` while being imported, like a module with a stray command-line entry point."""

import sys

sys.exit(3)
