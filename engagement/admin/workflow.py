"""Customer success admin: playbooks, alert rules, alerts, action plans and steps, My work.

Thin: querysets from engagement.workflow.selectors / crm.permissions, writes through the
workflow services, pages after django/contrib/auth/admin.py (get_urls + admin_view).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.generic import RedirectView

from crm import permissions
from crm.roles import CUSTOMER_SUCCESS
from customers.models import Customer
from engagement.models.workflow import (
    ActionPlan,
    ActionStep,
    Alert,
    AlertRule,
    Playbook,
    PlaybookStep,
)
from engagement.workflow import alerts as alert_services
from engagement.workflow import plans as plan_services
from engagement.workflow import selectors
from engagement.workflow.outcomes import playbook_outcome, rule_outcome
from engagement.workflow.playbooks import alert_rule_check

from .display import rate_text, uplift_text, uplift_verdict

# --- Playbooks and alert rules (crm_admin edits; model permissions decide) ------------------


def outcome_panel(row: dict, *, note: str, units: str = "Matured alerts") -> str:
    """The read-only "Does it work?" panel of a rule's, playbook's or campaign's page."""
    arms = [
        (
            label,
            figures["n"],
            rate_text(figures["converted"]),
            rate_text(figures["purchased"]),
            "\u2013" if figures["revenue"] is None else f"{figures['revenue']:,.2f}",
        )
        for label, figures in (("Treatment", row["treatment"]), ("Control", row["control"]))
    ]
    return render_to_string(
        "admin/engagement/workflow/outcome.html",
        {
            "verdict": uplift_verdict(row["conversion_uplift"]),
            "units": units,
            "arms": arms,
            "uplifts": [
                ("Conversion", uplift_text(row["conversion_uplift"])),
                ("Purchase", uplift_text(row["purchase_uplift"])),
                ("Mean revenue", uplift_text(row["revenue_uplift"], money=True)),
            ],
            "note": note,
        },
    )


class StepNumberField(forms.IntegerField):
    """A stored 0-based position, shown and typed as a 1-based step number."""

    def __init__(self, **kwargs):
        kwargs.pop("max_value", None)
        # Blank: after the last step (PlaybookStepFormSet.clean).
        kwargs.update(min_value=1, required=False, label="Step")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # Only the stored integer shifts; what the user typed is shown back as typed.
        return value + 1 if isinstance(value, int) else value

    def clean(self, value):
        number = super().clean(value)
        return None if number is None else number - 1

    def has_changed(self, initial, data):
        return super().has_changed(None if initial is None else initial + 1, data)


class PlaybookStepForm(forms.ModelForm):
    class Meta:
        model = PlaybookStep
        fields = ["position", "title", "kind", "offset_days", "assignee_role", "description"]
        field_classes = {"position": StepNumberField}
        # Narrow enough that the row fits the page beside the sidebar (no sideways scroll).
        widgets = {
            "position": forms.NumberInput(attrs={"style": "width:3em"}),
            "title": forms.TextInput(attrs={"style": "width:14em"}),
            "offset_days": forms.NumberInput(attrs={"style": "width:4em"}),
            "description": forms.Textarea(attrs={"rows": 2, "style": "width:14em"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.initial["position"] = None  # a new step: blank, placed after the last


class PlaybookStepFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            f
            for f in self.forms
            if (f.has_changed() or f.instance.pk)
            and not self._should_delete_form(f)
            and f.is_valid()
        ]
        numbered = [f.cleaned_data["position"] for f in kept]
        after = max((n for n in numbered if n is not None), default=-1) + 1
        for form in kept:
            if form.cleaned_data.get("position") is None:
                form.cleaned_data["position"] = form.instance.position = after
                after += 1


def _alerts_outcome_panel(row: dict, *, what: str) -> str:
    window = f"{row['window_days']}-day windows" if row["window_days"] else "their rules' windows"
    note = (
        f"Alerts of {what} whose outcome window has ended, as of today ({window} after "
        "the day each fired). Treatment: alerts worked as usual; control: held out "
        "by the rule's holdout. Uplift = treatment minus control."
    )
    return outcome_panel(row, note=note)


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    form = PlaybookStepForm
    formset = PlaybookStepFormSet
    extra = 0
    fields = ["position", "title", "kind", "offset_days", "assignee_role", "description"]
    ordering = ["position", "pk"]


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "step_count", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "objective"]
    inlines = [PlaybookStepInline]
    readonly_fields = ["outcome"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_steps=Count("steps"))

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "outcome"]
        return [*fields, "outcome"] if obj else fields

    @admin.display(description="Does it work?")
    def outcome(self, obj):
        return _alerts_outcome_panel(
            playbook_outcome(playbook=obj),
            what="the rules of this playbook, and members of its campaigns,",
        )

    @admin.display(description="steps", ordering="n_steps")
    def step_count(self, obj):
        return obj.n_steps


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = [
            "name",
            "trigger",
            "severity",
            "playbook",
            "cooldown_days",
            "holdout_percent",
            "outcome_window_days",
            "is_active",
            "to_status",
            "from_status",
            "customer_type",
            "count",
            "window_days",
            "min_revenue",
            "max_p_alive",
        ]

    def clean(self):
        cleaned = super().clean()
        rule = AlertRule(**{k: v for k, v in cleaned.items() if k != "id"})
        try:
            alert_rule_check(rule)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field, errors)
        return cleaned


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = [
        "name",
        "trigger",
        "severity",
        "playbook",
        "cooldown_days",
        "holdout_percent",
        "is_active",
    ]
    list_filter = ["trigger", "severity", "is_active"]
    list_select_related = ["playbook"]
    search_fields = ["name"]
    readonly_fields = ["outcome"]
    fieldsets = [
        (
            None,
            {"fields": ["name", "trigger", "severity", "playbook", "cooldown_days", "is_active"]},
        ),
        (
            "Trigger parameters",
            {
                "fields": [
                    "to_status",
                    "from_status",
                    "customer_type",
                    "count",
                    "window_days",
                    "min_revenue",
                    "max_p_alive",
                ],
                "description": "status_changed: to status (and optionally from status); "
                "type gained/lost: customer type; support spike: count within window days; "
                "high-value inactive: minimum revenue over 365 days; predicted value at "
                "risk: P(alive) below max p alive and predicted 365-day CLV of at least "
                "min revenue.",
            },
        ),
        (
            "Holdout and outcome",
            {
                "fields": ["holdout_percent", "outcome_window_days"],
                "description": "A holdout of h % puts each customer the rule fires for into "
                "a control group with probability h % (0 to 50): the alert is stored held "
                "out, starts no plan and goes to nobody. Outcomes are read over the window "
                "after each alert, and compared between the two groups.",
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Does it work?", {"fields": ["outcome"]})]

    @admin.display(description="Outcome")
    def outcome(self, obj):
        return _alerts_outcome_panel(rule_outcome(rule=obj), what="this rule")


# --- Alerts -------------------------------------------------------------------------------


def _set_status(modeladmin, request, queryset, status, verb):
    if not permissions.can_manage_workflow(request.user):
        raise PermissionDenied
    changed = alert_services.alerts_set_status(alerts=queryset, user=request.user, status=status)
    modeladmin.message_user(request, f"{changed} alert(s) {verb}.", messages.SUCCESS)


class WorkflowPermissionMixin:
    """Reps see their customers' records read-only; customer success and admins change them."""

    def has_view_permission(self, request, obj=None):
        if obj is not None and not permissions.can_view_workflow_of(request.user, obj.customer):
            return (
                permissions.is_sales_rep(request.user)
                and getattr(obj, "assignee_id", None) == request.user.pk
            )
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return permissions.can_manage_workflow(request.user) and super().has_change_permission(
            request, obj
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return permissions.is_admin(request.user)


@admin.register(Alert)
class AlertAdmin(WorkflowPermissionMixin, admin.ModelAdmin):
    list_display = ["created_at", "severity", "customer", "rule", "status", "assignee", "plan_link"]
    list_filter = ["status", "arm", "severity", "rule"]
    list_select_related = ["customer", "rule", "assignee", "action_plan"]
    search_fields = ["customer__name", "message"]
    actions = ["acknowledge", "resolve", "dismiss"]
    fields = [
        "customer",
        "rule",
        "severity",
        "message",
        "status",
        "arm",
        "assignee",
        "fired_on",
        "created_at",
        "acknowledged_at",
        "resolved_at",
        "resolved_by",
        "action_plan",
    ]
    readonly_fields = [f for f in fields if f not in ("status", "assignee")]
    raw_id_fields = ["assignee"]
    show_full_result_count = False

    def get_queryset(self, request):
        return permissions.visible_workflow(request.user, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == Alert.AlertStatus.HELD_OUT:
            return self.fields  # the control arm of a holdout: a record, never worked
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        alert_services.alert_update(
            alert=Alert.objects.get(pk=obj.pk),
            user=request.user,
            status=obj.status,
            assignee=obj.assignee,
        )

    @admin.display(description="plan")
    def plan_link(self, obj):
        if not obj.action_plan_id:
            return "-"
        url = reverse("admin:engagement_actionplan_change", args=[obj.action_plan_id])
        return format_html('<a href="{}">{}</a>', url, "plan")

    @admin.action(description="Acknowledge selected alerts", permissions=["change"])
    def acknowledge(self, request, queryset):
        _set_status(self, request, queryset, Alert.AlertStatus.ACKNOWLEDGED, "acknowledged")

    @admin.action(description="Resolve selected alerts", permissions=["change"])
    def resolve(self, request, queryset):
        _set_status(self, request, queryset, Alert.AlertStatus.RESOLVED, "resolved")

    @admin.action(description="Dismiss selected alerts", permissions=["change"])
    def dismiss(self, request, queryset):
        _set_status(self, request, queryset, Alert.AlertStatus.DISMISSED, "dismissed")


# --- Action plans and steps ---------------------------------------------------------------


class ActionStepInline(admin.TabularInline):
    """The plan's checklist: each open step links to its completion page."""

    model = ActionStep
    extra = 0
    can_delete = False
    fields = [
        "step",
        "title",
        "kind",
        "due_on",
        "assignee",
        "status",
        "completed_at",
        "complete",
    ]
    readonly_fields = fields
    ordering = ["position", "pk"]

    @admin.display(description="step")
    def step(self, step):
        return step.position + 1  # stored from 0; people count steps from 1

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assignee")

    @admin.display(description="")
    def complete(self, step):
        if step.status != ActionStep.StepStatus.OPEN:
            return "✓" if step.status == ActionStep.StepStatus.DONE else "skipped"
        url = reverse("admin:engagement_actionstep_complete", args=[step.pk])
        return format_html('<a class="button" href="{}">Complete</a>', url)


class StartPlanForm(forms.Form):
    playbook = forms.ModelChoiceField(queryset=Playbook.objects.filter(is_active=True))
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True, groups__name=CUSTOMER_SUCCESS),
        required=False,
        help_text="A customer success user; empty: the default one.",
    )
    objective = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    started_on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )


@admin.register(ActionPlan)
class ActionPlanAdmin(WorkflowPermissionMixin, admin.ModelAdmin):
    list_display = ["customer", "playbook", "owner", "status", "started_on", "due_on", "progress"]
    list_filter = ["status", "playbook"]
    list_select_related = ["customer", "playbook", "owner"]
    search_fields = ["customer__name", "objective"]
    fields = [
        "customer",
        "playbook",
        "objective",
        "owner",
        "status",
        "started_on",
        "due_on",
        "progress",
        "outcome",
        "completed_at",
    ]
    readonly_fields = ["customer", "playbook", "started_on", "due_on", "progress", "completed_at"]
    raw_id_fields = ["owner"]
    inlines = [ActionStepInline]
    show_full_result_count = False

    def get_queryset(self, request):
        plans = selectors.with_step_counts(super().get_queryset(request))
        return selectors.visible_plans(request.user, plans)

    def has_view_permission(self, request, obj=None):
        if (
            obj is not None
            and permissions.is_sales_rep(request.user)
            and not permissions.can_manage_workflow(request.user)
        ):
            return self.get_queryset(request).filter(pk=obj.pk).exists()
        return super().has_view_permission(request, obj)

    @admin.display(description="progress")
    def progress(self, obj):
        percent = plan_services.progress_percent(obj.steps_closed, obj.steps_total)
        return format_html(
            '<progress max="100" value="{}"></progress> {}% ({} of {})',
            percent,
            percent,
            obj.steps_closed,
            obj.steps_total,
        )

    def get_urls(self):
        return [
            # My work's old address (it lit "Action plans" in the sidebar): pages() serves it.
            path("my-work/", RedirectView.as_view(pattern_name="admin:engagement_my_work")),
            path(
                "start/<int:customer_id>/",
                self.admin_site.admin_view(self.start_view),
                name="engagement_actionplan_start",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request, customer_id):
        customer = get_object_or_404(Customer, pk=customer_id)
        if not permissions.can_manage_workflow(request.user):
            raise PermissionDenied
        form = StartPlanForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                plan = plan_services.action_plan_start(customer=customer, **form.cleaned_data)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.message_user(request, f"Plan started for {customer}.", messages.SUCCESS)
                return redirect("admin:engagement_actionplan_change", plan.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Start a plan for {customer}",
            "form": form,
            "customer": customer,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/engagement/workflow/start_plan.html", context)


class CompleteStepForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in ActionStep.CLOSED_STATES],
        initial=ActionStep.StepStatus.DONE,
        widget=forms.RadioSelect,
    )
    log_interaction = forms.BooleanField(
        required=False, initial=True, label="Log the outbound interaction on the customer"
    )
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


@admin.register(ActionStep)
class ActionStepAdmin(admin.ModelAdmin):
    list_display = ["title", "customer", "kind", "due_on", "assignee", "status"]
    list_filter = ["status", "kind"]
    list_select_related = ["plan__customer", "assignee"]
    search_fields = ["title", "plan__customer__name"]
    fields = [
        "plan",
        "title",
        "description",
        "kind",
        "due_on",
        "assignee",
        "status",
        "completed_at",
        "completed_by",
        "last_reminded_on",
    ]
    readonly_fields = [
        "plan",
        "title",
        "kind",
        "status",
        "completed_at",
        "completed_by",
        "last_reminded_on",
    ]
    raw_id_fields = ["assignee"]
    actions = ["mark_done", "mark_skipped"]
    show_full_result_count = False

    def get_queryset(self, request):
        return permissions.visible_workflow(
            request.user, super().get_queryset(request), customer_field="plan__customer"
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Reps hold the model permission to complete their steps (actions, completion page);
        # their change form stays read-only.
        if obj is not None and not permissions.can_manage_workflow(request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return permissions.is_admin(request.user)

    @admin.display(description="customer", ordering="plan__customer__name")
    def customer(self, obj):
        return obj.plan.customer

    def change_view(self, request, object_id, form_url="", extra_context=None):
        step = self.get_object(request, object_id)
        if (
            step is not None
            and step.status == ActionStep.StepStatus.OPEN
            and permissions.can_complete_step(request.user, step)
        ):
            url = reverse("admin:engagement_actionstep_complete", args=[step.pk])
            extra_context = {**(extra_context or {}), "complete_url": url}
        return super().change_view(request, object_id, form_url, extra_context)

    def _complete(self, request, queryset, status):
        done = refused = 0
        for step in queryset.select_related("plan"):
            if not permissions.can_complete_step(request.user, step):
                refused += 1
                continue
            try:
                plan_services.action_step_complete(step=step, user=request.user, status=status)
                done += 1
            except ValidationError:
                refused += 1
        self.message_user(request, f"{done} step(s) {status}.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} step(s) left as they were (closed or not yours).",
                messages.WARNING,
            )

    @admin.action(description="Mark selected steps done", permissions=["change"])
    def mark_done(self, request, queryset):
        self._complete(request, queryset, ActionStep.StepStatus.DONE)

    @admin.action(description="Mark selected steps skipped", permissions=["change"])
    def mark_skipped(self, request, queryset):
        self._complete(request, queryset, ActionStep.StepStatus.SKIPPED)

    def get_urls(self):
        return [
            path(
                "<int:pk>/complete/",
                self.admin_site.admin_view(self.complete_view),
                name="engagement_actionstep_complete",
            ),
            *super().get_urls(),
        ]

    def complete_view(self, request, pk):
        step = get_object_or_404(
            ActionStep.objects.select_related("plan__customer", "assignee"), pk=pk
        )
        if not permissions.can_complete_step(request.user, step):
            raise PermissionDenied
        form = CompleteStepForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                plan_services.action_step_complete(
                    step=step, user=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                self.message_user(request, f"Step “{step.title}” completed.", messages.SUCCESS)
                if permissions.can_manage_workflow(request.user):
                    return redirect("admin:engagement_actionplan_change", step.plan_id)
                return redirect("admin:engagement_my_work")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Complete “{step.title}”",
            "form": form,
            "step": step,
            "logs_interaction": step.kind in plan_services.INTERACTION_KIND,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/engagement/workflow/complete_step.html", context)


# --- My work: a page of no model ----------------------------------------------------------


def my_work_view(request):
    if not permissions.can_read(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    alerts, steps = selectors.my_work(user=request.user, today=today)
    context = {
        **admin.site.each_context(request),
        "title": "My work",
        "alerts": alerts,
        "steps": steps,
        "today": today,
    }
    return TemplateResponse(request, "admin/engagement/workflow/my_work.html", context)


def pages(site) -> list:
    """My work at /admin/engagement/my-work/: outside every model's address, so the sidebar
    (which lights the model whose address starts the path) lights none."""
    return [path("my-work/", site.admin_view(my_work_view), name="engagement_my_work")]
