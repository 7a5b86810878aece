"""Detectors: turn stored events into alerts. ``detectors.sigma`` evaluates Sigma rules."""
