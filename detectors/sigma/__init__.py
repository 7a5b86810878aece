"""Sigma detection engine: pySigma parses the rules, this package compiles and evaluates them.

Layout: ``yamldoc`` (YAML with lines) → ``parse`` (checks, pySigma, located errors) → ``compiler``
(pySigma's condition tree and typed values → ``nodes`` and ``values`` matchers) → ``rule``
(``CompiledRule``) → ``detector`` (routing by log source, alerts). ``fieldmap`` holds the declarative
field and log source tables, ``modifiers`` the supported modifier list.
"""

from detectors.sigma.detector import SigmaDetector
from detectors.sigma.loader import LoadedRules, builtin_rules_dir, load_rules
from detectors.sigma.rule import CompiledRule, Logsource

__all__ = ["CompiledRule", "LoadedRules", "Logsource", "SigmaDetector", "builtin_rules_dir", "load_rules"]
