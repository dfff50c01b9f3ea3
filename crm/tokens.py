"""API tokens die with the credentials they were issued for.

When a user's password changes (set_password, the admin's password form, `changepassword`)
or the user is deactivated, every DRF token of that user is deleted: a leaked token stops
working once the password is reset. Detected on User save by comparing with the stored row,
so every path that saves the user is covered. (`QuerySet.update()` bypasses it.)
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save

_WATCHED = {"password", "is_active"}
_BEFORE = "_crm_credentials_before"


def _remember(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and not _WATCHED.intersection(update_fields):
        return  # e.g. last_login on every sign-in: no extra query
    stored = (
        sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    )
    setattr(instance, _BEFORE, stored)


def _revoke(sender, instance, created=False, raw=False, **kwargs):
    before = instance.__dict__.pop(_BEFORE, None)
    if raw or created or before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        user_tokens_revoke(user=instance)


def user_tokens_revoke(*, user) -> int:
    """Delete every API token of `user`; answers how many."""
    from rest_framework.authtoken.models import Token

    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def connect() -> None:
    User = get_user_model()
    pre_save.connect(_remember, sender=User, dispatch_uid="crm.tokens.remember")
    post_save.connect(_revoke, sender=User, dispatch_uid="crm.tokens.revoke")
