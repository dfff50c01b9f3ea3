"""Saved segments and campaigns in the admin.

- The customer list: a "saved segment" sidebar filter (the user's own and shared segments,
  with their sizes) and "Save as segment", which maps the list's sidebar and search
  parameters onto a segment's (engagement.workflow.customer_filters).
- Segments: their list, "Start campaign" with a preview and a confirmation. Sizes (here and
  in the sidebar) are fetched after the page, all of a page in one query (`sizes_view`).
- Campaigns: their list and page (progress, members by arm, plans' progress, outcome).

Thin: reads from engagement.workflow.segments / campaigns, permissions from crm.permissions,
writes through their services; pages after django/contrib/auth/admin.py.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from crm import permissions
from customers.models import Customer
from engagement.models.segments import DEFAULT_OUTCOME_WINDOW_DAYS, Campaign, SavedSegment
from engagement.models.workflow import MAX_HOLDOUT_PERCENT, Playbook
from engagement.tasks import enqueue_campaign_run
from engagement.workflow import campaigns as campaign_services
from engagement.workflow import segments as segment_services
from engagement.workflow.customer_filters import P_ALIVE_BANDS
from engagement.workflow.outcomes import campaign_outcome

from .workflow import outcome_panel

# --- The customer list: from its parameters to a segment's --------------------------------

# The customer list's sidebar and search parameters, and the segment parameter each becomes.
_LIST_PARAMETERS = {
    "q": "search",
    "status": "status",
    "type": "type",
    "kind__exact": "kind",
    "country": "country",
    "industry": "industry",
    # What the sidebar writes, above; the same lookups spelt out, as Django also takes them.
    "country__exact": "country",
    "industry__exact": "industry",
    "owner": "owner",
    "reactivated": "reactivated",
    "archived": "archived",
}
# Not filters: ordering, page, "show all", the admin's error flag, popup plumbing.
_NOT_FILTERS = {"o", "p", "all", "e", "_popup", "_to_field", "_changelist_filters"}
# The segment filter lists at most this many segments (own and shared, by name).
SIDEBAR_SEGMENTS = 20
# Sizes answered by one request (the segments list shows 50 a page).
SIZES_PER_REQUEST = 100


def segment_filters_from_list(params: QueryDict, *, user) -> str:
    """The segment query string for the customer list's `params`, or ValidationError on
    `filters` naming every parameter that cannot be saved.

    "My accounts" becomes the saving user's id (a shared segment shows everybody the same
    customers); a segment already applied (`segment`) is merged in.
    """
    wanted: dict[str, str] = {}
    problems = []
    for key in params:
        value = params.get(key, "")
        if key in _NOT_FILTERS or key == "segment":
            continue
        if key == "p_alive":  # the sidebar's band: two bounds of the segment's
            band = P_ALIVE_BANDS.get(value)
            if band is None:
                problems.append("“No prediction” cannot be saved in a segment.")
                continue
            low, high = band
            if low is not None:
                wanted["p_alive_gte"] = str(low)
            if high is not None:
                wanted["p_alive_lt"] = str(high)
            continue
        name = _LIST_PARAMETERS.get(key)
        if name is None:
            problems.append(f"The list parameter “{key}” cannot be saved in a segment.")
            continue
        if key == "owner" and value == "me":
            value = str(user.pk)
        elif key == "owner" and value == "none":
            name, value = "has_owner", "false"
        elif key == "reactivated":
            value = {"yes": "true", "no": "false"}.get(value, value)
        elif key == "archived":
            if value == "all":
                problems.append(
                    "“All, with archived” cannot be saved: a segment holds either current "
                    "or archived customers."
                )
                continue
            value = {"yes": "true"}.get(value, value)
        wanted[name] = value
    applied = _visible_segment(user, params.get("segment"))
    if params.get("segment") and applied is None:
        problems.append("The applied segment is not one you can read.")
    if applied is not None:
        for name, value in QueryDict(applied.filters).items():
            if wanted.get(name, value) != value:
                problems.append(f"“{name}” is set both by the segment and by the list.")
            wanted[name] = value
    if problems:
        raise ValidationError({"filters": problems})
    return segment_services.segment_filters_clean(urlencode(wanted))


def _visible_segment(user, value) -> SavedSegment | None:
    if not value or not str(value).isdigit() or int(value) > 2**63 - 1:
        return None
    segments = permissions.visible_segments(user, SavedSegment.objects.all())
    return segments.filter(pk=int(value)).first()


class SegmentListFilter(admin.SimpleListFilter):
    """The customer list's "saved segment" filter: own and shared segments, with sizes.

    The sizes are fetched after the page (segment_sizes.js, one query for all of them), so
    counting them never slows the customer list or adds to its queries.
    """

    title = "saved segment"
    parameter_name = "segment"
    template = "admin/engagement/segments/segment_filter.html"

    def lookups(self, request, model_admin):
        segments = segment_services.saved_segment_list(user=request.user)[:SIDEBAR_SEGMENTS]
        return [(str(pk), name) for pk, name in segments.values_list("pk", "name")]

    def choices(self, changelist):
        # Django yields "All" first, then one choice per lookup: each segment's id beside it.
        ids = [None, *(value for value, _ in self.lookup_choices)]
        for choice, segment_id in zip(super().choices(changelist), ids, strict=True):
            yield {**choice, "segment_id": segment_id}

    def has_output(self):
        # Shown with a segment in the URL even when the user has none listed: the message
        # below then says why the list is empty.
        return bool(self.lookup_choices) or self.value() is not None

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        segment = _visible_segment(request.user, self.value())
        if segment is None:
            messages.error(request, "That saved segment does not exist or is not yours to read.")
            return queryset.none()
        try:
            return segment_services.segment_apply(queryset, segment)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return queryset.none()


class SaveSegmentForm(forms.Form):
    name = forms.CharField(max_length=200)
    is_shared = forms.BooleanField(
        required=False, label="Share it", help_text="Everybody can then read and use it."
    )


# --- Segments -----------------------------------------------------------------------------


class SavedSegmentForm(forms.ModelForm):
    class Meta:
        model = SavedSegment
        fields = ["name", "filters", "is_shared"]
        help_texts = {
            "filters": "A query string of the customer list's filters, e.g. "
            "status=at_risk&type=loyal&search=acme. Easier: filter the customer list and "
            "use “Save as segment”."
        }

    def clean_filters(self):
        try:
            return segment_services.segment_filters_clean(self.cleaned_data["filters"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["filters"]) from error


class StartCampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    playbook = forms.ModelChoiceField(queryset=Playbook.objects.filter(is_active=True))
    holdout_percent = forms.IntegerField(
        min_value=0,
        max_value=MAX_HOLDOUT_PERCENT,
        initial=0,
        help_text="This share of the members is drawn into control: recorded, no plan "
        "started, so the outcome can be compared (0 to 50).",
    )
    outcome_window_days = forms.IntegerField(
        min_value=1,
        initial=DEFAULT_OUTCOME_WINDOW_DAYS,
        help_text="The outcome is read this many days after the start.",
    )


@admin.register(SavedSegment)
class SavedSegmentAdmin(admin.ModelAdmin):
    form = SavedSegmentForm
    list_display = ["name", "owner", "is_shared", "size", "customers_link", "campaign_link"]
    list_filter = ["is_shared"]
    search_fields = ["name"]
    fields = ["name", "filters", "is_shared", "owner", "created_at", "updated_at"]
    readonly_fields = ["owner", "created_at", "updated_at"]
    list_per_page = 50

    class Media:
        # Fills the size column after the page: the page's sizes in one request, one query.
        js = ["engagement/segment_sizes.js"]

    def get_queryset(self, request):
        return segment_services.saved_segment_list(user=request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and permissions.can_edit_segment(
            request.user, obj
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and permissions.can_edit_segment(
            request.user, obj
        )

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in ("name", "filters", "is_shared")}
        if change:
            segment_services.saved_segment_update(segment=obj, **values)
        else:
            created = segment_services.saved_segment_create(owner=request.user, **values)
            obj.pk, obj.owner = created.pk, created.owner
            obj._state.adding = False

    def delete_model(self, request, obj):
        segment_services.saved_segment_delete(segment=obj)

    def delete_queryset(self, request, queryset):
        for segment in queryset:
            segment_services.saved_segment_delete(segment=segment)

    @admin.display(description="size")
    def size(self, segment):
        return format_html(
            '<span data-segment-id="{}" data-sizes-url="{}" data-unknown="{}">…</span>',
            segment.pk,
            reverse("admin:engagement_savedsegment_sizes"),
            "filters no longer apply",
        )

    @admin.display(description="customers")
    def customers_link(self, segment):
        url = reverse("admin:customers_customer_changelist")
        return format_html('<a href="{}?segment={}">Show</a>', url, segment.pk)

    @admin.display(description="campaign")
    def campaign_link(self, segment):
        url = reverse("admin:engagement_savedsegment_start_campaign", args=[segment.pk])
        return format_html('<a href="{}">Start campaign</a>', url)

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if not permissions.can_start_campaign(request.user):
            display.remove("campaign_link")
        return display

    def get_urls(self):
        return [
            path(
                "sizes/",
                self.admin_site.admin_view(self.sizes_view),
                name="engagement_savedsegment_sizes",
            ),
            path(
                "save-from-list/",
                self.admin_site.admin_view(self.save_from_list_view),
                name="engagement_savedsegment_save_from_list",
            ),
            path(
                "<int:pk>/start-campaign/",
                self.admin_site.admin_view(self.start_campaign_view),
                name="engagement_savedsegment_start_campaign",
            ),
            *super().get_urls(),
        ]

    def sizes_view(self, request):
        """`?id=1&id=2...` (at most 100 segments the user reads): `{"sizes": {"1": 12,
        "2": null}}` (null: its filters no longer apply), counted in one query."""
        if not permissions.can_read(request.user):
            raise PermissionDenied
        ids = {int(pk) for pk in request.GET.getlist("id") if pk.isdigit() and len(pk) < 19}
        if len(ids) > SIZES_PER_REQUEST:
            return JsonResponse({"id": [f"At most {SIZES_PER_REQUEST} segments."]}, status=400)
        segments = segment_services.saved_segment_list(user=request.user).filter(pk__in=ids)
        sizes = segment_services.segment_sizes(segments)
        return JsonResponse({"sizes": {str(pk): size for pk, size in sizes.items()}})

    def save_from_list_view(self, request):
        """Save the customer list's current filters and search (this page's query string)."""
        if not permissions.can_create_segment(request.user):
            raise PermissionDenied
        list_url = reverse("admin:customers_customer_changelist")
        back = f"{list_url}?{request.GET.urlencode()}" if request.GET else list_url
        problems, filters, size = [], "", None
        try:
            filters = segment_filters_from_list(request.GET, user=request.user)
        except ValidationError as error:
            problems = error.messages
        else:
            size = segment_services.segment_apply(
                Customer.objects.all(), SavedSegment(filters=filters)
            ).count()
        form = SaveSegmentForm(request.POST or None)
        if request.method == "POST" and not problems and form.is_valid():
            try:
                segment = segment_services.saved_segment_create(
                    owner=request.user, filters=filters, **form.cleaned_data
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.message_user(
                    request, f"Saved segment “{segment.name}” ({size} customers).", messages.SUCCESS
                )
                return redirect(f"{list_url}?{urlencode({'segment': segment.pk})}")
        context = {
            **self.admin_site.each_context(request),
            "title": "Save as segment",
            "form": form,
            "filters": filters,
            "readable": _readable(filters),
            "size": size,
            "problems": problems,
            "back_url": back,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/engagement/segments/save_segment.html", context)

    def start_campaign_view(self, request, pk):
        """Pick a playbook, a holdout and a window; preview; confirm; the draw runs."""
        segment = _visible_segment(request.user, pk)
        if segment is None:
            raise Http404("No such segment.")
        if not permissions.can_start_campaign(request.user):
            raise PermissionDenied
        initial = {"name": f"{segment.name}, {timezone.localdate():%Y-%m-%d}"}
        form = StartCampaignForm(request.POST or None, initial=initial)
        preview = None
        if request.method == "POST" and form.is_valid():
            values = form.cleaned_data
            if "confirm" in request.POST:
                try:
                    campaign = campaign_services.campaign_start(
                        segment=segment, started_by=request.user, **values
                    )
                except ValidationError as error:
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    enqueue_campaign_run(campaign.pk)
                    self.message_user(
                        request, f"Campaign “{campaign.name}” started.", messages.SUCCESS
                    )
                    return redirect("admin:engagement_campaign_change", campaign.pk)
            elif "edit" not in request.POST:
                try:
                    preview = campaign_services.campaign_preview(
                        segment=segment,
                        playbook=values["playbook"],
                        holdout_percent=values["holdout_percent"],
                    )
                except ValidationError as error:
                    form.add_error(None, error.messages)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Start a campaign on “{segment.name}”",
            "segment": segment,
            "readable": _readable(segment.filters),
            "form": form,
            "preview": preview,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/engagement/segments/start_campaign.html", context)


def _readable(filters: str) -> list[tuple[str, str]]:
    return list(QueryDict(filters).items())


def _outcome_panel(campaign: Campaign, matures_on, today) -> str | None:
    """The "Does it work?" panel, once the campaign's outcome window has ended."""
    if matures_on > today:
        return None
    row = campaign_outcome(campaign=campaign, as_of=today)
    note = (
        f"The campaign's members, {campaign.outcome_window_days} days after its start "
        f"({campaign.started_on}). Treatment: a plan started (or one already running kept); "
        f"control: held out ({campaign.holdout_percent}%). Uplift = treatment minus control."
    )
    return outcome_panel(row, note=note, units="Members")


# --- Campaigns ----------------------------------------------------------------------------


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "segment",
        "playbook",
        "holdout",
        "started_on",
        "started_by",
        "state",
        "progress",
        "treatment",
        "control",
    ]
    list_filter = ["state", "playbook"]
    search_fields = ["name"]
    fields = [
        "name",
        "segment",
        "playbook",
        "holdout_percent",
        "outcome_window_days",
        "started_on",
        "started_by",
        "state",
        "error",
        "finished_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/engagement/campaign/change_form.html"

    def get_queryset(self, request):
        return campaign_services.campaign_list()

    def has_add_permission(self, request):
        # A campaign starts from a segment ("Start campaign"), never from an empty form.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="holdout", ordering="holdout_percent")
    def holdout(self, campaign):
        return f"{campaign.holdout_percent}%"

    @admin.display(description="progress")
    def progress(self, campaign):
        return format_html(
            '<progress max="{}" value="{}"></progress> {} of {}',
            campaign.members_total or 1,
            campaign.members_done,
            campaign.members_done,
            campaign.members_total,
        )

    @admin.display(description="treatment", ordering="treatment_count")
    def treatment(self, campaign):
        return campaign.treatment_count

    @admin.display(description="control", ordering="control_count")
    def control(self, campaign):
        return campaign.control_count

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        campaign = self.get_object(request, object_id)
        if campaign is not None:
            today = timezone.localdate()
            report = campaign_services.campaign_report(campaign)
            extra_context.update(
                {
                    "campaign": campaign,
                    "report": report,
                    "running": campaign.state in (Campaign.State.PENDING, Campaign.State.RUNNING),
                    "outcome": _outcome_panel(campaign, report.matures_on, today),
                    "plans_url": reverse("admin:engagement_actionplan_changelist"),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)
