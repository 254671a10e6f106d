"""Loans at the desk and self-service: the checks before a loan, renewals and their limits,
long-running ILL loans."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circulation.hooks import RenewOutcome
from circulation.models import Hold, Loan
from circulation.services.common import (
    OVERRIDE_PERMISSION,
    DeskError,
    PatronCannotBorrow,
    _active_hold,
    _ill,
    _lock_item,
    _open_loan,
    _open_transit,
    _patron_label,
    _terms,
    date_label,
    end_of_day,
    patron_problems,
)
from fulfillment.models import (
    CirculationDesk,
    Item,
    TermsOfUse,
)


def _check_loanable(*, desk, item, patron, hold, terms, self_service) -> None:
    if item.status in (Item.Status.ILL_AWAITING, Item.Status.WITH_PARTNER, Item.Status.LOST,
                       Item.Status.MISSING, Item.Status.WITHDRAWN, Item.Status.DAMAGED,
                       Item.Status.RESOURCE_SHARING):
        raise DeskError(_("This item is “%(status)s” and cannot be loaned.") % {
            "status": item.get_status_display()})
    if item.is_temporary and hold is None:
        raise DeskError(_("This ILL item was borrowed for another patron, or its request has "
                          "ended: it cannot be loaned to %(patron)s.") % {
            "patron": _patron_label(patron)})
    if hold is not None and hold.patron_id != patron.pk:
        if self_service:  # never tell one patron who another is waiting for
            raise DeskError(_("This item is reserved for someone else: please ask at the "
                              "desk."))
        raise DeskError(_("This item is on hold for another patron (%(patron)s): it cannot be "
                          "loaned to this one.") % {"patron": _patron_label(hold.patron)})
    home = item.permanent_location.library
    if home.is_rs_library and not home.other_desks_may_loan and desk.library_id != home.pk:
        raise DeskError(_("Items of %(library)s are loaned only at its own desk.") % {
            "library": home.name})
    if terms is None:
        raise DeskError(_("No terms of use apply to this item for the patron's group: a "
                          "configuration admin must add a fulfillment unit rule."))
    if item.not_for_loan_reason:
        raise DeskError(_("Not for home loan: %(reason)s. The patron may use it in the "
                          "library.") % {"reason": item.not_for_loan_reason})
    if terms.loan_period_days == 0:
        raise DeskError(_("Library use only: this item is not for loan (%(terms)s).") % {
            "terms": terms.name})
    if self_service:
        if hold is not None and hold.desk_pickup_only:
            raise DeskError(_("Desk pickup only (international loan): please borrow this "
                              "item at the desk."))
        if not terms.self_service_allowed:
            raise DeskError(_("This item cannot be borrowed at self-service: please borrow it "
                              "at the desk."))


def _make_loan(*, desk, item, patron, hold, user, override_reason="", self_service=False,
               arrived=False, terms=None) -> Loan:
    """Create the loan (rows already locked and checked)."""
    terms = terms or _terms(item, patron)
    if terms is None:
        raise DeskError(_("No terms of use apply to this item for the patron's group: a "
                          "configuration admin must add a fulfillment unit rule."))
    due = _ill("loan_due_date", item=item, patron=patron) if item.is_temporary else None
    if due is None:
        due = end_of_day(timezone.localdate() + datetime.timedelta(days=terms.loan_period_days))
    if not arrived:
        transit = _open_transit(item)
        if transit is not None:  # Loaned straight from the transit bin: it has arrived.
            transit.ended_at = timezone.now()
            transit.save(update_fields=["ended_at"])
    loan = Loan.objects.create(
        institution_id=item.institution_id, patron=patron, item=item, desk=desk,
        terms_of_use=terms, due_at=due, is_ill=item.is_temporary, self_service=self_service,
        overridden_by=user if override_reason and user is not None and user.pk else None,
        override_reason=override_reason[:300])
    item.status = Item.Status.LOANED
    if item.patron_keeps:
        # A paper copy is the patron's to keep: the hand-over is recorded as a loan that
        # ends at once, and the item leaves every shelf and list.
        loan.returned_at = loan.loaned_at
        loan.returned_desk = desk
        loan.save(update_fields=["returned_at", "returned_desk"])
        item.status = Item.Status.WITHDRAWN
    item.status_changed_at = timezone.now()
    item.save(update_fields=["status", "status_changed_at"])
    if hold is not None:
        if hold.state == Hold.State.WAITING and item.is_temporary:
            _ill("item_arrived_at_desk", item=item, hold=hold, desk=desk, user=user)
        hold.mark_loaned()
        hold.closed_at = timezone.now()
        hold.save()
    if loan.is_ill:
        _ill("item_loaned", loan=loan, user=user)
    return loan


def loan_item(*, desk: CirculationDesk, patron, item: Item, user, override: bool = False,
              self_service: bool = False) -> Loan:
    """Check out: loan the item to the patron at this desk.

    Refuses with `PatronCannotBorrow` (which lists every problem) when the patron is blocked,
    expired or at the loan limit, unless `override` and the user has the override permission.
    An ILL item's due date is its borrowing request's patron due date (asked of ILL).
    """
    with transaction.atomic():
        item = _lock_item(item.pk)
        # Lock the patron too: two desks loaning to one patron at the same moment would both
        # pass the loan limit check.
        patron = (type(patron).objects.select_for_update(of=("self",))
                  .select_related("group").get(pk=patron.pk))
        if patron.institution_id != desk.institution_id:
            raise DeskError(_("This patron belongs to another institution."))
        existing = _open_loan(item)
        if existing is not None:
            if existing.patron_id == patron.pk:
                raise DeskError(_("Already on loan to this patron, due %(date)s.") % {
                    "date": date_label(existing.due_at)})
            raise DeskError(_("Already on loan to another patron (due %(date)s): check it in "
                              "first.") % {"date": date_label(existing.due_at)})
        hold = _active_hold(item)
        terms = _terms(item, patron)
        _check_loanable(desk=desk, item=item, patron=patron, hold=hold, terms=terms,
                        self_service=self_service)
        problems = patron_problems(patron)
        override_reason = ""
        if problems:
            if not override:
                raise PatronCannotBorrow(
                    _("%(patron)s cannot borrow now.") % {"patron": _patron_label(patron)},
                    problems=problems)
            if self_service or user is None or not user.has_perm(OVERRIDE_PERMISSION):
                raise PatronCannotBorrow(
                    _("Only staff with the override permission can loan to %(patron)s now.")
                    % {"patron": _patron_label(patron)}, problems=problems)
            override_reason = " ".join(p.message for p in problems)
        return _make_loan(desk=desk, item=item, patron=patron, hold=hold, user=user,
                          override_reason=override_reason, self_service=self_service,
                          terms=terms)


def renewal_refusal(*, loan: Loan, by_patron: bool, today: datetime.date | None = None
                    ) -> str | None:
    """Why this loan may not be renewed now, or None. The same rules for ILL loans: the
    renewal window (for patrons), the maximum count and the maximum total loan days."""
    today = today or timezone.localdate()
    if loan.returned_at is not None:
        return _("This loan has ended.")
    blocks = loan.patron.active_blocks(today)
    if blocks and by_patron:
        return _("Your account is blocked (%(why)s): please contact the library.") % {
            "why": blocks[0].get_reason_display()}
    return terms_renewal_refusal(
        loan.terms_of_use, renewals=loan.renewals, by_patron=by_patron, today=today,
        started=timezone.localtime(loan.loaned_at).date(),
        due=timezone.localtime(loan.due_at).date())


def terms_renewal_refusal(terms: TermsOfUse | None, *, renewals: int,
                          started: datetime.date | None, due: datetime.date | None,
                          by_patron: bool, today: datetime.date) -> str | None:
    """What the terms of use say against one more renewal, or None. The one place for these
    rules: the desk asks it for a loan, ILL for a borrowing request (before asking the
    partner), so an ILL renewal can never slip past the limits an ordinary loan has."""
    if terms is None:
        return None
    if not terms.renewable:
        return _("This loan is not renewable.")
    if terms.max_renewals is not None and renewals >= terms.max_renewals:
        return _("Renewed %(n)s times already: the most these terms of use allow.") % {
            "n": renewals}
    if terms.max_total_loan_days and started and due:
        if (due - started).days >= terms.max_total_loan_days:
            return _("The loan has reached the longest time it may run (%(days)s days from "
                     "%(date)s).") % {"days": terms.max_total_loan_days, "date": date_label(started)}
    if by_patron and terms.renewal_window_days is not None and due:
        opens = due - datetime.timedelta(days=terms.renewal_window_days)
        if today < opens:
            return _("Renewal opens on %(date)s (%(days)s days before the due date).") % {
                "date": date_label(opens), "days": terms.renewal_window_days}
    return None


def renew_loan(*, loan: Loan, user, by_patron: bool = False,
               today: datetime.date | None = None) -> RenewOutcome:
    """Renew a loan. An ILL loan is renewed through its borrowing request (the bridge), never
    as an ordinary renewal; both are refused outside the window and past the maximum."""
    with transaction.atomic():
        # Lock the loan: a patron's click and the auto-renew job must not renew it twice.
        loan = (Loan.objects.select_for_update(of=("self",))
                .select_related("terms_of_use", "patron__group", "item__bib").get(pk=loan.pk))
        refusal = renewal_refusal(loan=loan, by_patron=by_patron, today=today)
        if refusal:
            raise DeskError(refusal)
        if loan.is_ill:
            outcome = _ill("renew_ill_loan", loan=loan, user=user, by_patron=by_patron)
            if outcome.state == RenewOutcome.REFUSED:
                raise DeskError(outcome.message)
            if outcome.state == RenewOutcome.GRANTED and outcome.new_due_at:
                loan.due_at = outcome.new_due_at
                loan.renewals += 1
            else:
                loan.renewal_requested_at = timezone.now()
            loan.save(update_fields=["due_at", "renewals", "renewal_requested_at"])
            return outcome
        terms = loan.terms_of_use
        period = terms.loan_period_days if terms else 28
        start = max(timezone.localdate(), timezone.localtime(loan.due_at).date())
        new_due = start + datetime.timedelta(days=period)
        if terms is not None and terms.max_total_loan_days:
            limit = (timezone.localtime(loan.loaned_at).date()
                     + datetime.timedelta(days=terms.max_total_loan_days))
            new_due = min(new_due, limit)
        loan.due_at = end_of_day(new_due)
        loan.renewals += 1
        loan.save(update_fields=["due_at", "renewals"])
        return RenewOutcome(RenewOutcome.GRANTED, _("Renewed: now due %(date)s.") % {
            "date": date_label(new_due)}, new_due_at=loan.due_at)


@dataclass
class LongLoan:
    loan: Loan
    days: int  # from the loan date to the due date
    limit_days: int | None
    renewals_left: int | None

    @property
    def at_limit(self) -> bool:
        return (self.limit_days is not None and self.days >= self.limit_days) or \
            self.renewals_left == 0


def long_running_ill_loans(*, institution, min_days: int = 56) -> list[LongLoan]:
    """Open ILL loans that have run long: at least `min_days` from the loan date to the due
    date, or at their terms' maximum (renewals or total days). Alma lets ILL renewals run
    for ever; here staff see them."""
    rows = []
    loans = (Loan.objects.filter(institution=institution, is_ill=True, returned_at__isnull=True)
             .select_related("patron", "item__bib", "terms_of_use").order_by("loaned_at"))
    for loan in loans:
        terms = loan.terms_of_use
        days = (timezone.localtime(loan.due_at).date()
                - timezone.localtime(loan.loaned_at).date()).days
        row = LongLoan(loan=loan, days=days,
                       limit_days=terms.max_total_loan_days if terms else None,
                       renewals_left=(max(terms.max_renewals - loan.renewals, 0)
                                      if terms and terms.max_renewals is not None else None))
        if days >= min_days or row.at_limit:
            rows.append(row)
    return rows
