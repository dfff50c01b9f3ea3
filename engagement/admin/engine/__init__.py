"""Admin faces of the engine: rule versions, stored results, history, prediction fits, the
customer page's panels."""

from . import history, predictions, results, rules  # noqa: F401  (register the ModelAdmins)
