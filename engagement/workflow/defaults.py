"""The playbooks and alert rules the product ships, as data (a migration loads them once).

Admins edit them afterwards; `install_defaults` never overwrites an existing one by name.
"""

PLAYBOOKS = [
    {
        "name": "Reactivation",
        "objective": "Bring an at-risk or inactive customer back to regular activity.",
        "steps": [
            ("Review the account's recent history", "task", 0, "customer_success"),
            ("Call the customer to ask how things are going", "call", 2, "owner"),
            ("Send a tailored offer or useful content", "email", 5, "owner"),
            ("Check for new activity and record the outcome", "task", 14, "customer_success"),
        ],
    },
    {
        "name": "Churn save",
        "objective": "Understand why a customer left or cancelled, and try to win them back.",
        "steps": [
            ("Call to learn the reason for leaving", "call", 1, "owner"),
            ("Meet to present a save offer", "meeting", 5, "customer_success"),
            ("Record the outcome and the reason", "task", 10, "customer_success"),
        ],
    },
    {
        "name": "Onboarding",
        "objective": "Get a new customer to their first regular use.",
        "steps": [
            ("Welcome e-mail with first steps", "email", 0, "owner"),
            ("Kick-off meeting", "meeting", 3, "customer_success"),
            ("Check first activity", "task", 14, "customer_success"),
        ],
    },
    {
        "name": "Passive-subscriber adoption",
        "objective": "A subscriber who pays but does not use the product: drive adoption.",
        "steps": [
            ("Send usage tips for the subscribed product", "email", 0, "customer_success"),
            ("Offer a training session", "call", 4, "customer_success"),
            ("Check usage after the training", "task", 21, "customer_success"),
        ],
    },
    {
        "name": "Support escalation",
        "objective": "Many support requests in a short time: find and fix the root cause.",
        "steps": [
            ("Review the recent support interactions", "task", 0, "customer_success"),
            ("Call the customer about the open issues", "call", 1, "customer_success"),
            ("Confirm the issues are resolved", "task", 7, "customer_success"),
        ],
    },
    {
        "name": "Loyalty thanks",
        "objective": "Thank a loyal customer and keep the relationship warm.",
        "steps": [
            ("Send a personal thank-you e-mail", "email", 0, "owner"),
            ("Offer a loyalty benefit", "task", 7, "owner"),
        ],
    },
]

ALERT_RULES = [
    {
        "name": "Slipped to at risk",
        "trigger": "status_changed",
        "to_status": "at_risk",
        "severity": "warning",
        "playbook": "Reactivation",
    },
    {
        "name": "Became inactive",
        "trigger": "status_changed",
        "to_status": "inactive",
        "severity": "warning",
        "playbook": "Reactivation",
    },
    {
        "name": "Churned",
        "trigger": "status_changed",
        "to_status": "churned",
        "severity": "critical",
        "playbook": "Churn save",
    },
    {
        "name": "New customer to onboard",
        "trigger": "status_changed",
        "to_status": "new",
        "severity": "info",
        "playbook": "Onboarding",
    },
    {
        "name": "Subscriber turned passive",
        "trigger": "status_changed",
        "to_status": "passive",
        "severity": "info",
        "playbook": "Passive-subscriber adoption",
    },
    {
        "name": "Subscription cancelled",
        "trigger": "subscription_cancelled",
        "severity": "warning",
        "playbook": "Churn save",
    },
    {
        "name": "Support spike",
        "trigger": "support_spike",
        "count": 5,
        "window_days": 14,
        "severity": "warning",
        "playbook": "Support escalation",
    },
    {
        "name": "High-value customer inactive",
        "trigger": "high_value_inactive",
        "min_revenue": "5000.00",
        "severity": "critical",
        "playbook": "Churn save",
    },
    {
        # Inactive as shipped: docs/definitions.md, "Choices", says why.
        "name": "Valuable customer slipping away",
        "trigger": "value_at_risk",
        "max_p_alive": 0.5,
        "min_revenue": "1000.00",
        "severity": "warning",
        "playbook": "Reactivation",
        "is_active": False,
    },
    {
        "name": "Became loyal",
        "trigger": "type_gained",
        "customer_type": "loyal",
        "severity": "info",
        "playbook": "Loyalty thanks",
    },
]


def install_defaults(playbook_model, step_model, rule_model) -> tuple[int, int]:
    """Create the missing default playbooks and rules (models passed in, for migrations).

    A rule needing a field the given model state lacks is skipped; the migration that adds
    the field calls this again.
    """
    playbooks = rules = 0
    by_name = {}
    for spec in PLAYBOOKS:
        playbook, made = playbook_model.objects.get_or_create(
            name=spec["name"], defaults={"objective": spec["objective"]}
        )
        by_name[spec["name"]] = playbook
        if made:
            playbooks += 1
            step_model.objects.bulk_create(
                [
                    step_model(
                        playbook=playbook,
                        position=position,
                        title=title,
                        kind=kind,
                        offset_days=offset,
                        assignee_role=role,
                    )
                    for position, (title, kind, offset, role) in enumerate(spec["steps"])
                ]
            )
    known = {f.name for f in rule_model._meta.get_fields()}
    for spec in ALERT_RULES:
        fields = {k: v for k, v in spec.items() if k not in ("name", "playbook")}
        if not set(fields) <= known:
            continue  # a rule of a later migration's fields: that migration installs it
        fields["playbook"] = (
            by_name.get(spec.get("playbook"))
            or playbook_model.objects.filter(name=spec.get("playbook")).first()
        )
        _, made = rule_model.objects.get_or_create(name=spec["name"], defaults=fields)
        rules += made
    return playbooks, rules
