"""Data-leak analytics: each official and each API client against its own normal and its peers'."""

from canhgac.detectors.behaviour.detector import BehaviourDetector
from canhgac.detectors.behaviour.rules import RULES

__all__ = ["RULES", "BehaviourDetector"]
