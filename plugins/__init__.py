"""emokit's built-in plugins, discovered through the `emokit` entry-point group like any third-party plugin."""
