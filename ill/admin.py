"""The admin's view of ILL: the ISO 18626 traffic log, for the IT staff who connect partners.

Requests themselves are worked in the ILL screens, not here. The log shows every message in
and out (also those that could not be attributed to a request, which the request pages
cannot show) with its confirmation, and the outgoing queue; both are records, so nobody
adds, edits or deletes them by hand ("send again" is on the request page; sending again
everything that failed to a partner is also an action here).
"""

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ill import iso18626 as iso
from ill.models import (
    AssignmentRule,
    AutomationSettings,
    IsoMessage,
    OutboxMessage,
    PurchaseRequest,
    RotaTemplate,
    RotaTemplateEntry,
)
from ill.outbox.services import resume_partner
from ill.outbox.wire import mask_credentials
from kauko.admin_mixins import (
    InstitutionScopedAdmin,
    RecordAdmin,
    is_operator,
)
from partners.models import Partner


def _fixed_filter(field: str, title, values):
    """A list filter over known values. The admin's default for a plain text field asks the
    table for its distinct values on every page, which reads the whole of a growing log."""

    class FixedFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return [(v, v) for v in values]

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    FixedFilter.title = title
    return FixedFilter


class PartnerFilter(admin.SimpleListFilter):
    """The institution's ISO 18626 partners, from the partner table (not from the log)."""

    title = _("partner")
    parameter_name = "partner"

    def lookups(self, request, model_admin):
        partners = Partner.objects.filter(profile_type=Partner.ProfileType.ISO18626)
        if not is_operator(request):
            partners = partners.filter(institution=request.user.institution)
        return [(str(p.pk), str(p)) for p in partners.order_by("name")]

    def queryset(self, request, queryset):
        return queryset.filter(partner_id=self.value()) if self.value() else queryset


def _request_link(obj):
    if obj.borrowing_request_id:
        return format_html('<a href="{}">{}</a>', reverse(
            "ill:borrowing_detail", args=[obj.borrowing_request_id]), obj.borrowing_request)
    if obj.lending_request_id:
        return format_html('<a href="{}">{}</a>', reverse(
            "ill:lending_detail", args=[obj.lending_request_id]), obj.lending_request)
    return "-"


@admin.register(IsoMessage)
class IsoMessageAdmin(RecordAdmin):
    list_display = ["created_at", "direction", "kind", "requesting_agency_request_id",
                    "partner", "summary", "confirmation_status", "error_type", "request_link"]
    list_filter = [
        "created_at", "direction",
        _fixed_filter("kind", _("message"), [k.value for k in iso.MessageKind]),
        _fixed_filter("confirmation_status", _("confirmation"),
                      [s.value for s in iso.MessageStatus]),
        _fixed_filter("version", _("schema version"), [v.value for v in iso.Version]),
        PartnerFilter]
    # Only the exact id, which its index answers at any size of the log (a partner asking
    # "what happened to our request X" quotes it whole); any "contains" field would make
    # every search read the whole table.
    search_fields = ["=requesting_agency_request_id"]
    list_select_related = ["partner", "borrowing_request", "lending_request"]
    # Newest first, by the primary key's index; no date hierarchy, whose drill-down reads
    # every row of a log that only grows, and no second count of the whole table.
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["created_at", "direction", "partner", "request_link", "sender", "recipient",
              "kind", "version", "requesting_agency_request_id", "timestamp", "action",
              "reason_for_message", "status", "summary", "note", "http_status",
              "confirmation_status", "error_type", "error_value", "raw", "confirmation_raw"]
    readonly_fields = fields

    @admin.display(description=_("request"))
    def request_link(self, obj):
        return _request_link(obj)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(RecordAdmin):
    list_display = ["created_at", "chain", "sequence", "partner", "state", "attempts",
                    "next_attempt_at", "sent_at", "last_error", "request_link"]
    list_filter = ["state", PartnerFilter]
    search_fields = ["=chain"]  # "b:<borrowing request id>" or "l:<lending request id>"
    list_select_related = ["partner", "borrowing_request", "lending_request"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["created_at", "partner", "request_link", "chain", "sequence", "url", "state",
              "attempts", "next_attempt_at", "sending_since", "handed_to_broker_at",
              "sent_at", "last_error", "message_xml"]
    readonly_fields = fields
    actions = ["resend_partners"]

    @admin.display(description=_("request"))
    def request_link(self, obj):
        return _request_link(obj)

    @admin.display(description=_("message"))
    def message_xml(self, obj):
        # What is sent, with our credentials at the partner hidden as in the message log.
        return mask_credentials(obj.xml)

    def has_resend_permission(self, request):
        return request.user.has_perm("ill.change_outboxmessage")

    @admin.action(permissions=["resend"],
                  description=_("Send again every failed message to these messages' partners"))
    def resend_partners(self, request, queryset):
        # The queryset is the user's institution's (InstitutionScopedAdmin).
        partners = Partner.objects.filter(pk__in=queryset.values("partner_id"))
        resumed = sum(resume_partner(partner=partner, user=request.user)
                      for partner in partners)
        self.message_user(request, ngettext(
            "The failed messages of %(n)s request will be sent again.",
            "The failed messages of %(n)s requests will be sent again.",
            resumed) % {"n": resumed})


@admin.action(description=_("Export the selected as CSV"))
def export_purchase_requests(modeladmin, request, queryset):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="purchase-requests.csv"'
    writer = csv.writer(response)
    fields = ["created_at", "status", "title", "author", "publisher", "year", "isbn", "issn",
              "note"]
    writer.writerow([*fields, "patron"])
    for p in queryset.select_related("patron"):
        writer.writerow([*(getattr(p, f) for f in fields), p.patron.barcode])
    return response


@admin.register(PurchaseRequest)
class PurchaseRequestAdmin(InstitutionScopedAdmin):
    """Purchase requests ILL turned over to acquisitions: the status is theirs to keep."""

    list_display = ["title", "author", "isbn", "status", "patron", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "author", "isbn", "issn"]
    list_select_related = ["patron"]
    readonly_fields = ["borrowing_request", "patron", "created_by", "created_at"]
    fields = ["status", "title", "author", "publisher", "year", "edition", "isbn", "issn",
              "note", "borrowing_request", "patron", "created_by", "created_at"]
    actions = [export_purchase_requests]

    def has_add_permission(self, request):
        return False  # they come from borrowing requests


# --- automation: rota templates, assignment rules, settings ------------------------------------


class RotaTemplateEntryInline(admin.TabularInline):
    """The template's partners in rank order; only the institution's own are offered."""

    model = RotaTemplateEntry
    extra = 3
    fields = ["rank", "partner"]
    ordering = ["rank", "pk"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "partner" and not is_operator(request):
            field.queryset = field.queryset.filter(
                institution_id=getattr(request.user, "institution_id", None))
        return field


@admin.register(RotaTemplate)
class RotaTemplateAdmin(InstitutionScopedAdmin):
    list_display = ["name", "partners_in_order"]
    search_fields = ["name"]
    inlines = [RotaTemplateEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("entries__partner")

    @admin.display(description=_("partners, in order"))
    def partners_in_order(self, obj):
        return ", ".join(f"{e.rank}. {e.partner.name}" for e in obj.entries.all())


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(InstitutionScopedAdmin):
    list_display = ["position", "name", "template", "request_type", "format", "patron_group",
                    "pickup_desk", "partner_scope", "identifier", "auto_send", "active"]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    list_select_related = ["template", "patron_group", "pickup_desk"]
    ordering = ["position", "pk"]


@admin.register(AutomationSettings)
class AutomationSettingsAdmin(InstitutionScopedAdmin):
    list_display = ["institution", "auto_send", "chase_silent_partners", "condition_warn_days",
                    "lending_unanswered_days"]
