"""Bounds on work that attacker-controlled input may cause, shared by the collectors and the detectors."""

#: Values longer than this are matched by regular expressions and globs on their first characters only
#: (and the event is flagged by the evidence transform); a payload worth flagging shows itself well before.
MAX_EVALUATED_CHARS = 8192
