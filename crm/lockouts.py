"""Sign-in lockouts in the admin (django-axes' models): crm_admin sees them and lifts one.

axes' own admin classes, registered here rather than by axes (settings AXES_ENABLE_ADMIN is
off) so that the attempts list has a "Lift the lock" action. Which role sees them is
crm.roles' business (crm_admin: view and delete access attempts).
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset
from django.contrib import admin


def lift(username: str | None, ip_address: str | None) -> int:
    """Forget the failures of `username` from `ip_address` (the lockout's key, settings
    AXES_LOCKOUT_PARAMETERS); the number of attempt records deleted."""
    if username and ip_address:
        # axes' own reset: every record of the pair, whatever browser it came from.
        return reset(ip=ip_address, username=username)
    # axes' reset reads a missing value as "any": it would lift far more than this lock.
    deleted, _ = AccessAttempt.objects.filter(username=username, ip_address=ip_address).delete()
    return deleted


class LockoutAdmin(AccessAttemptAdmin):
    actions = [*AccessAttemptAdmin.actions, "lift_lock"]

    @admin.action(description="Lift the lock", permissions=["delete"])
    def lift_lock(self, request, queryset):
        pairs = set(queryset.values_list("username", "ip_address"))
        # Who lifted which lock stays in the admin's history.
        self.log_deletions(request, queryset)
        for username, ip_address in pairs:
            lift(username, ip_address)
        names = ", ".join(sorted(f"{username} from {ip}" for username, ip in pairs))
        self.message_user(request, f"Lock lifted: {names}. They may sign in again.")


def register(site) -> None:
    site.register(AccessAttempt, LockoutAdmin)
    site.register(AccessLog, AccessLogAdmin)
    site.register(AccessFailureLog, AccessFailureLogAdmin)
