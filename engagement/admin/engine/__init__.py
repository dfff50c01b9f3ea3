"""Admin faces of the engine: rule versions, stored results, history, full recompute runs
(progress), prediction fits, the customer page's panels."""

from . import history, predictions, results, rules, runs  # noqa: F401  (register the ModelAdmins)
