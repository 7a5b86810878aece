"""Alerts grouped into incidents per agency; lifecycle and audit trail."""
