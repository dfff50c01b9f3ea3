"""Admin faces of the engine: rule versions, stored results, history, full recompute runs
(progress), the customer panel."""

from . import history, results, rules, runs  # noqa: F401  (register the ModelAdmins)
