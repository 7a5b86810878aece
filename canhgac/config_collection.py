"""Configuration of collection (the ``collection:`` block): inputs beyond per-system log files, spooling,
trusted proxies. Grows with the collectors."""

from __future__ import annotations

from canhgac.config_base import StrictModel


class CollectionSettings(StrictModel):
    pass
