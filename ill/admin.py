"""The admin's view of ILL: the ISO 18626 traffic log, for the IT staff who connect partners.

Requests themselves are worked in the ILL screens, not here. The log shows every message in
and out (also those that could not be attributed to a request, which the request pages
cannot show) with its confirmation, and the outgoing queue; both are records, so nobody
adds, edits or deletes them by hand ("send again" is on the request page).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kauko.admin_mixins import InstitutionScopedAdmin

from .iso_models import IsoMessage, OutboxMessage


class _RecordAdmin(InstitutionScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _request_link(obj):
    if obj.borrowing_request_id:
        return format_html('<a href="{}">{}</a>', reverse(
            "ill:borrowing_detail", args=[obj.borrowing_request_id]), obj.borrowing_request)
    if obj.lending_request_id:
        return format_html('<a href="{}">{}</a>', reverse(
            "ill:lending_detail", args=[obj.lending_request_id]), obj.lending_request)
    return "-"


@admin.register(IsoMessage)
class IsoMessageAdmin(_RecordAdmin):
    list_display = ["created_at", "direction", "kind", "requesting_agency_request_id",
                    "partner", "summary", "confirmation_status", "error_type", "request_link"]
    list_filter = ["direction", "kind", "confirmation_status", "version",
                   ("partner", admin.RelatedOnlyFieldListFilter)]
    # Exact ids: a partner asking "what happened to our request X" quotes it whole.
    search_fields = ["=requesting_agency_request_id", "sender", "recipient", "summary"]
    date_hierarchy = "created_at"
    list_select_related = ["partner", "borrowing_request", "lending_request"]
    fields = ["created_at", "direction", "partner", "request_link", "sender", "recipient",
              "kind", "version", "requesting_agency_request_id", "timestamp", "action",
              "reason_for_message", "status", "summary", "note", "http_status",
              "confirmation_status", "error_type", "error_value", "raw", "confirmation_raw"]
    readonly_fields = fields

    @admin.display(description=_("request"))
    def request_link(self, obj):
        return _request_link(obj)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_RecordAdmin):
    list_display = ["created_at", "chain", "sequence", "partner", "state", "attempts",
                    "next_attempt_at", "sent_at", "last_error", "request_link"]
    list_filter = ["state", ("partner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=chain", "last_error"]
    list_select_related = ["partner", "borrowing_request", "lending_request"]
    fields = ["created_at", "partner", "request_link", "chain", "sequence", "url", "state",
              "attempts", "next_attempt_at", "sending_since", "handed_to_broker_at",
              "sent_at", "last_error", "xml"]
    readonly_fields = fields

    @admin.display(description=_("request"))
    def request_link(self, obj):
        return _request_link(obj)
