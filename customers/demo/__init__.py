"""Demo data for local use: one user per role and a realistic, deterministic customer base.

`archetypes` shapes the customers (plain values), `seed` writes them in bulk; the
`seed_demo` command (engagement app) adds the users, then engagement.workflow.demo brings
the base to life (recompute, alert evaluation, rollups).
"""

from crm.roles import CRM_ADMIN, CUSTOMER_SUCCESS, SALES_REP

from .seed import SeedResult, demo_seed

# (username, role, password, e-mail). Fixed passwords: demo data for a local machine only.
# Order matters: the customer success user must be the first of its role by id, because
# unowned alerts and every action plan go to that user.
DEMO_USERS = [
    ("admin", CRM_ADMIN, "demo-admin", "admin@demo.example"),
    ("rep", SALES_REP, "demo-rep", "rep@demo.example"),
    ("rep2", SALES_REP, "demo-rep2", "rep2@demo.example"),
    ("success", CUSTOMER_SUCCESS, "demo-success", "success@demo.example"),
]

__all__ = ["DEMO_USERS", "SeedResult", "demo_seed"]
