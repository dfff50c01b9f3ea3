"""The admin: the daily tool of sales reps (see customers/admin/customer.py)."""

from django.contrib import admin

from customers import admin_io

from . import customer, records  # noqa: F401  (register the ModelAdmins)

admin.site.register_pages("customers/", admin_io.pages)
