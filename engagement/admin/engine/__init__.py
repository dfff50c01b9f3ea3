"""Admin faces of the engine: rule versions, stored results, history, the customer panel."""

from . import history, results, rules  # noqa: F401  (register the ModelAdmins)
