"""Ground floor of Canh Gác: the event model, configuration, agency directory, errors, i18n and helpers.

Everything else imports from here; nothing here imports from another Canh Gác subpackage.
"""

VERSION = "0.1.0"
