"""ILL's side of the desk hook: what a scan, loan or return of a temporary ILL item means
for its borrowing request.

The desk calls these inside its own transaction; each move of the request goes through the
same services (and so the same state machine, lock and history) as a staff action.
"""

from __future__ import annotations

from django.urls import reverse

from circulation.hooks import IllBridge, IllItemInfo, RenewOutcome, ScanAdvice
from circulation.services import end_of_day
from fulfillment.letters import letter_library
from ill.borrowing import services
from ill.borrowing.letters import LetterRequest
from ill.models import BorrowingRequest, Source
from ill.workflow import record
from kauko.errors import DomainError
from kauko.i18n import gettext as _  # history notes read in each reader's language
from partners.letters import letter_partner

BR = BorrowingRequest


def request_for_item(item) -> BorrowingRequest | None:
    """The open (or last) borrowing request behind a temporary item."""
    if item is None or not item.is_temporary:
        return None
    return (BorrowingRequest.objects.filter(temporary_item=item)
            .select_related("partner", "patron").order_by("-created_at").first())


class BorrowingBridge(IllBridge):
    def describe_item(self, *, item):
        request = request_for_item(item)
        if request is None:
            return None
        return IllItemInfo(
            request_number=request.number,
            request_url=reverse("ill:borrowing_detail", args=[request.pk]),
            partner_name=request.partner.name if request.partner_id else "",
            is_international=bool(request.partner_id and request.partner.is_international),
            office_delivery_address=request.delivery_address if request.office_delivery
            else "",
            title=request.article_title or request.title,
        )

    def loan_due_date(self, *, item, patron):
        request = request_for_item(item)
        if request is None or request.patron_due_date is None:
            return None
        return end_of_day(request.patron_due_date)

    def item_arrived_at_desk(self, *, item, hold, desk, user):
        request = request_for_item(item)
        if request is not None:
            record(request=request, action="at_desk", user=user,
                   from_status=request.status, to_status=request.status,
                   note=_("Arrived at %(desk)s.") % {"desk": desk.name})

    def item_loaned(self, *, loan, user):
        request = request_for_item(loan.item)
        if request is not None and not request.is_physical:
            services.borrowing_request_copy_handed_over(
                request=request, user=user, desk_name=loan.desk.name if loan.desk_id else "")
        elif request is not None:
            services.borrowing_request_loaned_to_patron(
                request=request, user=user, desk_name=loan.desk.name if loan.desk_id else "")

    def item_returned(self, *, loan, desk, user):
        request = request_for_item(loan.item)
        if request is not None:
            services.borrowing_request_returned_by_patron(
                request=request, user=user, desk_name=desk.name if desk else "")

    def item_back_at_rs_library(self, *, item, user):
        request = request_for_item(item)
        if request is None:
            return None
        if request.status not in (BR.S.RETURNED_BY_PATRON, BR.S.RECEIVED, *BR.ON_LOAN):
            return ScanAdvice(
                _("Request %(number)s is “%(status)s”: check it before shipping the item.")
                % {"number": request.number, "status": request.get_status_display()},
                level="stop")
        request = services.borrowing_request_return_to_partner(request=request, user=user)
        partner = request.partner
        return ScanAdvice(
            _("Return to partner %(partner)s: print the return slip and ship it.")
            % {"partner": partner.name if partner else "?"},
            level="action", slip_code="return_slip",
            slip_context={"partner": letter_partner(partner),
                          "request": LetterRequest.of(request),
                          "library": letter_library(request.rs_library),
                          "item": {"barcode": item.primary_barcode, "title": request.title}})

    def hold_shelf_expired(self, *, hold):
        request = request_for_item(hold.item)
        if request is not None:
            services.borrowing_request_not_picked_up(request=request)

    def renew_ill_loan(self, *, loan, user, by_patron):
        request = request_for_item(loan.item)
        if request is None:
            return super().renew_ill_loan(loan=loan, user=user, by_patron=by_patron)
        try:
            services.borrowing_request_request_renewal(
                request=request, user=user if user is not None and user.pk else None,
                by_patron=by_patron, source=Source.PATRON if by_patron else Source.STAFF)
        except DomainError as exc:
            return RenewOutcome(RenewOutcome.REFUSED, exc.message)
        return RenewOutcome(RenewOutcome.REQUESTED, _(
            "Renewal asked from %(partner)s; the due date moves when it answers."
        ) % {"partner": request.partner.name if request.partner_id else "?"})

    def auto_renewal_refused(self, *, loan, reason):
        request = request_for_item(loan.item)
        if request is not None:
            services.borrowing_request_auto_renewal_refused(request=request, reason=reason)

    def scan_undone(self, *, item, outcome, user):
        """Put the request back where the undone scan found it."""
        request = request_for_item(item)
        if request is not None:
            services.borrowing_request_undo_scan(request=request, outcome=outcome, user=user)
