"""The admin: the daily tool of sales reps (see customers/admin/customer.py)."""

from . import customer, records  # noqa: F401  (register the ModelAdmins)
