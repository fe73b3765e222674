"""Waypost: a self-hosted server for LangGraph graphs, built around humans in the loop."""

from waypost.errors import WaypostError

__version__ = "0.1.0"
__all__ = ["WaypostError", "__version__"]
