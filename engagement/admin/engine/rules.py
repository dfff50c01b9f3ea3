"""Engagement rules in the admin: every version kept and readable, changed through a preview.

Every role reads the versions. A CRM admin changes the thresholds on the "change rules"
page: submitting shows what the change would do (engagement_preview: how many customers
move, from which status or type to which, with a sample of each) and nothing is written
until they confirm; confirming saves a new version (rule_set_update) and queues a full
recompute. Custom views follow django/contrib/auth/admin.py.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Subquery
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm import permissions
from engagement.engine.recompute import engagement_preview
from engagement.engine.rule_sets import rule_set_current, rule_set_ensure, rule_set_update
from engagement.engine.rules import Rules, validate_rules
from engagement.models.rules import RuleSet
from engagement.tasks import enqueue_recompute_all

from .preview import preview_context

THRESHOLDS = RuleSet.THRESHOLD_FIELDS

HELP_TEXTS = {
    "recent_buyer_days": _("Recent buyer: a purchase within this many days."),
    "loyal_min_purchases": _("Loyal: at least this many purchases within the loyal window..."),
    "loyal_window_days": _("...counted over this many days..."),
    "loyal_min_tenure_days": _(
        "...and a first purchase (or a live subscription started) at least this many days ago."
    ),
    "support_min_interactions": _("Support-heavy: at least this many support interactions..."),
    "support_window_days": _("...within this many days."),
    "contact_min_interactions": _(
        "Engaged contact: at least this many communications from the customer..."
    ),
    "contact_window_days": _("...within this many days."),
    "onboarding_days": _("New: no activity yet and a customer for at most this many days."),
    "active_days": _("Active: last activity at most this many days ago."),
    "at_risk_days": _("At risk: last activity at most this many days ago (and not active)."),
    "inactive_days": _("Inactive: last activity at most this many days ago; churned beyond."),
    "count_trials_as_subscribers": _("Count trial subscriptions as live subscriptions."),
}


class RuleChangeForm(forms.ModelForm):
    """The thresholds of a new version, checked by engagement.engine.rules.validate_rules.

    `base_version` is the version the admin started from: confirming against a newer
    active version is refused, so nobody overwrites a change they have not seen.
    """

    base_version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = RuleSet
        fields = THRESHOLDS
        help_texts = HELP_TEXTS

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                validate_rules(self.rules())
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned

    def _post_clean(self):
        # The thresholds are checked by validate_rules (in clean()); the unsaved model
        # instance has nothing more to say and is never saved from here.
        pass

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in THRESHOLDS}

    def rules(self):
        return Rules(**self.changes())


def _initial(rule_set: RuleSet) -> dict:
    return {
        "base_version": rule_set.version,
        **{name: getattr(rule_set, name) for name in THRESHOLDS},
    }


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    list_display = [
        "version_label",
        "created_at",
        "created_by",
        "active_days",
        "at_risk_days",
        "inactive_days",
        "onboarding_days",
        "recent_buyer_days",
        "count_trials_as_subscribers",
    ]
    list_select_related = ["created_by"]
    ordering = ["-version"]
    readonly_fields = ["version", *THRESHOLDS, "created_at", "created_by"]
    fieldsets = [
        (None, {"fields": ["version", "created_at", "created_by"]}),
        (
            _("Status"),
            {"fields": ["onboarding_days", "active_days", "at_risk_days", "inactive_days"]},
        ),
        (
            _("Types"),
            {
                "fields": [
                    "recent_buyer_days",
                    "loyal_min_purchases",
                    "loyal_window_days",
                    "loyal_min_tenure_days",
                    "support_min_interactions",
                    "support_window_days",
                    "contact_min_interactions",
                    "contact_window_days",
                    "count_trials_as_subscribers",
                ]
            },
        ),
    ]
    change_list_template = "admin/engagement/ruleset/change_list.html"
    change_form_template = "admin/engagement/ruleset/change_form.html"

    def get_queryset(self, request):
        latest = RuleSet.objects.order_by("-version").values("version")[:1]
        # The same uncorrelated subquery on every row: the database runs it once.
        return super().get_queryset(request).annotate(active_version=Subquery(latest))

    # Versions are never edited or deleted: a change is a new version, made by rule_change_view.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_rules_change_permission(self, request):
        return self.has_view_permission(request) and permissions.can_manage_configuration(
            request.user
        )

    @admin.display(description=_("version"), ordering="version")
    def version_label(self, rule_set):
        if rule_set.version == rule_set.active_version:
            return format_html(
                'v{} <strong class="active-rules">{}</strong>', rule_set.version, _("active")
            )
        return f"v{rule_set.version}"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "change-rules/",
                self.admin_site.admin_view(self.rule_change_view),
                name="{}_{}_change_rules".format(*info),
            ),
            path(
                "change-rules/confirm/",
                self.admin_site.admin_view(self.rule_confirm_view),
                name="{}_{}_confirm_rules".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_change_rules": self.has_rules_change_permission(request),
            "active_rule_set": rule_set_current(),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_change_rules": self.has_rules_change_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # The change flow ----------------------------------------------------------------------

    def rule_change_view(self, request):
        """GET: the form, filled with the active rules. POST: the preview (or the form's errors)."""
        if not self.has_rules_change_permission(request):
            raise PermissionDenied
        active = rule_set_ensure()
        if request.method == "GET":
            return self._form_page(request, RuleChangeForm(initial=_initial(active)), active)
        form = RuleChangeForm(request.POST)
        if "_edit" in request.POST or not form.is_valid():
            return self._form_page(request, form, active)
        return self._preview_page(request, form, active)

    def rule_confirm_view(self, request):
        """POST only: save the previewed thresholds as a new version and queue a full recompute."""
        if not self.has_rules_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        active = rule_set_ensure()
        form = RuleChangeForm(request.POST)
        if not form.is_valid():
            return self._form_page(request, form, active)
        if form.cleaned_data["base_version"] != active.version:
            messages.warning(
                request,
                _(
                    "The rules were changed meanwhile (now v%(version)s). Review the preview "
                    "against them before confirming."
                )
                % {"version": active.version},
            )
            return self._preview_page(request, form, active)
        try:
            new = rule_set_update(user=request.user, **form.changes())
        except ValidationError as error:
            form.add_error(None, error)
            return self._form_page(request, form, active)
        enqueue_recompute_all()
        messages.success(
            request,
            _("Rules v%(version)s saved. A full recompute of every customer is queued.")
            % {"version": new.version},
        )
        return HttpResponseRedirect(reverse("admin:engagement_ruleset_changelist"))

    def _context(self, request, title, active):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "active_rule_set": active,
            "changelist_url": reverse("admin:engagement_ruleset_changelist"),
            "change_url": reverse("admin:engagement_ruleset_change_rules"),
            "confirm_url": reverse("admin:engagement_ruleset_confirm_rules"),
        }

    def _form_page(self, request, form, active):
        context = {
            **self._context(request, _("Change engagement rules"), active),
            "form": form,
            "adminform": admin.helpers.AdminForm(
                form, [(None, {"fields": THRESHOLDS})], {}, model_admin=self
            ),
            "errors": admin.helpers.AdminErrorList(form, []),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/engagement/ruleset/change_rules.html", context)

    def _preview_page(self, request, form, active):
        changes = form.changes()
        changed = [
            (name, RuleSet._meta.get_field(name).verbose_name, getattr(active, name), value)
            for name, value in changes.items()
            if getattr(active, name) != value
        ]
        summary = engagement_preview(rules=form.rules()) if changed else None
        context = {
            **self._context(request, _("Preview the rule change"), active),
            "form": form,
            "hidden_fields": [(name, _hidden(value)) for name, value in changes.items()],
            "base_version": active.version,
            "changed": changed,
            **preview_context(summary),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/engagement/ruleset/preview.html", context)


def _hidden(value):
    # A checkbox posts "on" or nothing; the preview carries booleans the same way.
    if isinstance(value, bool):
        return "on" if value else ""
    return value
