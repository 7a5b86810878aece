"""Canh Gác, a SOC service for Vietnam's e-government.

The repository's top-level folders are this package's subpackages (``canhgac.core``, ``canhgac.storage``,
``canhgac.collectors`` …, mapped in ``pyproject.toml``); the folder ``canhgac/`` itself is the roof: the
``canhgac`` command, the runtime wiring and the demo simulator.
"""

from canhgac.core import VERSION as __version__

__all__ = ["__version__"]
