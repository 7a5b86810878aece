"""The HTTP API: REST under ``/api/v1/`` and the web page at ``/``. Build it with :func:`create_app`."""

from canhgac.api.app import create_app

__all__ = ["create_app"]
