"""The engagement admin, one subpackage (or module) per context: engine (rule versions and
their change flow, stored results, history, the customer page's panel), workflow (playbooks,
alert rules, alerts, plans, My work; and `segments`: saved segments, campaigns), analytics
(the dashboard, the customer timeline).

`engine.actions.recompute_engagement_action` is also offered on the customer list.
"""

from django.contrib import admin

from . import engine, segments, workflow  # noqa: F401  (register the ModelAdmins)
from .analytics import dashboard

admin.site.register_pages("engagement/", dashboard.pages)
