"""Canh Gác: the shared event model, configuration and the ``canhgac`` command."""

__version__ = "0.1.0"
