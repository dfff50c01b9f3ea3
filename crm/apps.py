from django.contrib.admin.apps import AdminConfig


class CRMAdminConfig(AdminConfig):
    """django.contrib.admin with the project's site (crm.admin.CRMAdminSite) as admin.site."""

    default_site = "crm.admin.CRMAdminSite"
