"""The three roles as Django groups, with the model permissions each holds (see
README.md, "Roles").

Model permissions decide what the admin shows at all; object rules (a rep edits only the
customers they own) live in crm.permissions, which the admin and the API both ask.
"""

SALES_REP = "sales_rep"
CUSTOMER_SUCCESS = "customer_success"
CRM_ADMIN = "crm_admin"
ROLES = (SALES_REP, CUSTOMER_SUCCESS, CRM_ADMIN)

_CUSTOMER_MODELS = ("customer", "contact", "product", "subscription", "interaction")
_ENGAGEMENT_MODELS = (
    "ruleset",
    "engagementresult",
    "statushistory",
    "typechange",
    "playbook",
    "playbookstep",
    "alertrule",
    "alert",
    "actionplan",
    "actionstep",
    "predictionfit",
    "customerprediction",
)
# Segments: every role creates its own (crm.permissions decides whose it may change);
# campaigns: every role reads them, customer success and crm_admin start them.
_SEGMENT_MODELS = ("savedsegment",)
_CAMPAIGN_MODELS = ("campaign", "campaignmember")
# Full recompute runs and their chunks (progress, timings): crm_admin reads them.
_RUN_MODELS = ("recomputerun", "recomputechunk")


def _perms(app, actions, models):
    return {(app, f"{action}_{model}") for action in actions for model in models}


_VIEW_ALL = (
    _perms("customers", ["view"], _CUSTOMER_MODELS)
    | _perms("engagement", ["view"], _ENGAGEMENT_MODELS + _CAMPAIGN_MODELS)
    # Own segments: crm.permissions narrows change/delete to the owner.
    | _perms("engagement", ["view", "add", "change", "delete"], _SEGMENT_MODELS)
)

GROUP_PERMISSIONS = {
    SALES_REP: _VIEW_ALL
    | _perms("customers", ["add", "change"], ["customer", "contact", "subscription", "interaction"])
    | _perms("engagement", ["change"], ["actionstep"]),
    CUSTOMER_SUCCESS: _VIEW_ALL
    | _perms("customers", ["add", "change"], ["interaction"])
    | _perms("engagement", ["add", "change", "delete"], ["alert", "actionplan", "actionstep"])
    | _perms("engagement", ["add"], ["campaign"]),
    CRM_ADMIN: _perms("customers", ["view", "add", "change", "delete"], _CUSTOMER_MODELS)
    | _perms(
        "engagement",
        ["view", "add", "change", "delete"],
        _ENGAGEMENT_MODELS + _SEGMENT_MODELS + _CAMPAIGN_MODELS,
    )
    | _perms("engagement", ["view"], _RUN_MODELS)
    | _perms("auth", ["view", "add", "change", "delete"], ["user", "group"])
    # Sign-in lockouts (crm.lockouts): see them, and lift one (deletes its attempts).
    | _perms("axes", ["view", "delete"], ["accessattempt"])
    | _perms(
        "django_celery_beat",
        ["view", "add", "change", "delete"],
        ["periodictask", "crontabschedule", "intervalschedule"],
    ),
}


def sync_groups(apps=None):
    """Create or update the role groups. Safe to run any number of times."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in global_apps.get_app_configs():
        # Permissions are normally made after migrate; the groups need them now.
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, wanted in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = [
            p
            for p in Permission.objects.select_related("content_type").filter(
                content_type__app_label__in={app for app, _ in wanted}
            )
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
