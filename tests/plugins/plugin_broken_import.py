"""Fails to import, like a plugin whose own dependency is missing."""

raise ImportError("plugin_broken_import needs the 'facelib' package (pip install facelib)")
