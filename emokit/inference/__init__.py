"""Everything that turns pixels into emotions: runtimes, exporters, the frame pipeline, the Python API.

Filled in by issue #19's work (see docs/design.md).
"""
