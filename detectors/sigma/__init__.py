"""Sigma detection engine: pySigma parses the rules, this package compiles and evaluates them.

Layout: ``yamldoc`` (YAML with lines) → ``parse`` / ``metaparse`` (checks, pySigma, located errors for
rules, correlations, filters) → ``compiler`` (pySigma's condition tree and typed values → ``nodes`` and
``values`` matchers) → ``rule`` (``CompiledRule``) → ``loader`` + ``linker`` (files, filters, correlation
references) → ``detector`` (routing by log source, ``prefilter`` over ``literals``, alerts) and
``correlation`` + ``windows`` (sliding event-time windows). ``fieldmap`` holds the declarative field and
log source tables, ``modifiers`` the modifier table, ``fixtures`` and ``lint`` serve ``canhgac rules``.
"""

from canhgac.detectors.sigma.detector import SigmaDetector
from canhgac.detectors.sigma.loader import LoadedRules, builtin_rules_dir, load_rules
from canhgac.detectors.sigma.rule import CompiledRule, Logsource

__all__ = ["CompiledRule", "LoadedRules", "Logsource", "SigmaDetector", "builtin_rules_dir", "load_rules"]
