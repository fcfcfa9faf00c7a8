"""emokit-example-plugin: a worked example of a third-party emokit plugin.

The hooks live in :mod:`emokit_example.plugin` (the module the entry point names); each
record's implementation lives in a module of its own. Nothing here imports Keras: emokit
passes the ``keras`` module to the functions that need it, after the backend is chosen.
"""

__version__ = "0.1.0"
