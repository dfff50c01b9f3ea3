"""python manage.py create_crm_user USERNAME --role ROLE --password PASSWORD [--email EMAIL]"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm.roles import ROLES, sync_groups


class Command(BaseCommand):
    help = "Create a staff user of a CRM role (or update the user of that name)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        # Not argparse `choices`: an unknown role gets a CommandError naming the valid ones.
        parser.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default=None)

    @transaction.atomic
    def handle(self, *args, username, role, password, email, **options):
        if role not in ROLES:
            raise CommandError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
        group = Group.objects.filter(name=role).first()
        if group is None:
            # The data migration makes the groups; a database flushed since needs them again.
            sync_groups()
            group = Group.objects.get(name=role)
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_active = True
        if email is not None:
            user.email = email
        user.set_password(password)
        user.save()
        # One role per user: switching role removes the others.
        user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(pk=group.pk))
        user.groups.add(group)
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {role} user {username!r}."))
