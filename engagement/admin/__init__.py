"""The engagement admin: rule versions and their change flow, stored results, history.

`actions.recompute_engagement_action` is also offered on the customer list.
"""

from . import history, results, rules, workflow  # noqa: F401  (register the ModelAdmins)
