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


class StrictNullBooleanField(forms.NullBooleanField):
    """true/false (also 1/0, yes/no, any case) or blank; anything else is an error, where
    Django's NullBooleanField would quietly read it as "not given"."""

    _VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self._VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError("Enter true or false.", code="invalid") from None

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    """A boolean filter that answers 400 to a value that is neither true nor false."""

    field_class = StrictNullBooleanField

    def __init__(self, *args, **kwargs):
        # Django's boolean widgets read an unknown value as "not given"; the field decides.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
