"""Customer success workflow: alert rules and alerts, playbooks and action plans, reminders
(docs/architecture.md)."""
