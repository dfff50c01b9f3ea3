"""django-filter pieces the apps' FilterSets share."""

import django_filters
from django import forms


class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number in the database's range (else 400 naming the filter)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)
