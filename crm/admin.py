"""Admin helpers both apps share."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from crm.params import parse_id


class _GuardedChangeList:
    """A changelist whose query string cannot crash it.

    Django builds the date-hierarchy range with `datetime(int(year), ...)`: a year of 9999
    or of twenty digits raises ValueError or OverflowError past its own guard (a 500). Any
    such error while the filters are read is a bad lookup instead, which the admin answers
    by showing the whole list with its "invalid lookup" flag (`?e=1`).
    """

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class GuardedAdmin:
    """ModelAdmin mixin: bad query parameters never crash its pages.

    The changelist is a guarded one (see _GuardedChangeList). The add form takes initial
    values from the query string (`?customer=12`); a related field given something that
    is no id (`?customer=abc`) would make its widget look the value up and fail, so such
    a value is left out.
    """

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if issubclass(changelist, _GuardedChangeList):
            return changelist
        return type(f"Guarded{changelist.__name__}", (_GuardedChangeList, changelist), {})

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not field.is_relation or field.auto_created:
                continue
            if not isinstance(field.target_field, models.AutoField | models.IntegerField):
                continue
            values = value if isinstance(value, list) else [value]
            if any(parse_id(v) is None for v in values):
                del initial[name]
        return initial


def guard_changelists(site=admin.site) -> None:
    """Make every registered ModelAdmin (third-party ones too) a GuardedAdmin."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, GuardedAdmin):
            continue
        base = type(model_admin)
        guarded = type(f"Guarded{base.__name__}", (GuardedAdmin, base), {})
        site.unregister(model)
        site.register(model, guarded)
