"""One router per domain; ``api.app`` includes them all under ``/api/v1``."""
