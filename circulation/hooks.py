"""The one seam between the circulation desk and interlibrary loan.

`circulation` knows nothing of borrowing requests: it never imports `ill`. Where the desk must
tell ILL that something happened to a temporary ILL item (it arrived at the desk, was loaned,
returned, came back to the RS office, its hold shelf time ran out), or must ask ILL something
(which request an item belongs to, an ILL loan's due date, a renewal), it calls the registered
`IllBridge`. The default bridge does nothing and knows nothing, so circulation works on its
own; `ill` registers its subclass in `IllConfig.ready()`:

    from circulation.hooks import IllBridge, register_ill_bridge
    register_ill_bridge(BorrowingBridge())

Rules for implementations:

- Every method is called inside the desk's transaction, after the desk has locked and changed
  its own rows. To refuse, raise a `kauko.errors.DomainError` (ILL's `WorkflowError`, or
  the desk's `DeskError`) with a staff-facing message: the whole scan is rolled back
  and staff read the message on a STOP screen. Never talk to the network here; send letters
  and partner messages after commit (`transaction.on_commit`).
- Methods get model instances (items, holds, loans, desks, users) and must not assume any
  related row was prefetched.
- `describe_item` is called for display (scan feedback, item pages, the hold shelf): keep it
  to one or two queries and return None for items that are not ILL items.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IllItemInfo:
    """What the desk shows about a temporary ILL item."""

    request_number: str
    request_url: str = ""
    partner_name: str = ""
    # International partners' items are desk pickup only (no self-service).
    is_international: bool = False
    # Staff patrons' office delivery: the internal mail address, else "".
    office_delivery_address: str = ""
    title: str = ""


@dataclass(frozen=True)
class ScanAdvice:
    """What ILL wants staff to do with an item scanned at the RS library's desk.

    `level` is one of "ok", "action", "stop" (see `circulation.services.Level`).
    `slip_code` names a letter code to print (e.g. "return_slip"), with `slip_context` as
    its context; the desk renders it with `kauko.letters.render_letter`.
    """

    message: str
    level: str = "action"
    slip_code: str = ""
    slip_context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RenewOutcome:
    """ILL's answer to a renewal asked at the desk, by a patron or by the auto-renew job.

    state: "granted" (the due date moved now: new_due_at), "requested" (sent to the partner,
    the answer comes later) or "refused" (message says why).
    """

    state: str
    message: str = ""
    new_due_at: datetime.datetime | None = None

    GRANTED = "granted"
    REQUESTED = "requested"
    REFUSED = "refused"


class IllBridge:
    """The default bridge: no ILL, nothing to say. Subclass and override what ILL needs."""

    def describe_item(self, *, item) -> IllItemInfo | None:
        """The borrowing request behind a temporary ILL item, or None."""
        return None

    def loan_due_date(self, *, item, patron) -> datetime.datetime | None:
        """An ILL loan's due date: the borrowing request's patron due date (end of day).
        None: the desk falls back to the item's terms of use."""
        return None

    def item_arrived_at_desk(self, *, item, hold, desk, user) -> None:
        """The item reached the patron's pickup desk (on the hold shelf, or loaned there for
        office delivery)."""

    def item_loaned(self, *, loan, user) -> None:
        """The ILL item was loaned to the patron (request → loaned to patron)."""

    def item_returned(self, *, loan, desk, user) -> None:
        """The patron returned the ILL item (request → returned by patron)."""

    def item_back_at_rs_library(self, *, item, user) -> ScanAdvice | None:
        """The returned item was scanned at the RS library's desk. Typically: move the
        request to returned to partner and answer "return to partner NAME, print the return
        slip". None: the desk says the item is back and leaves it in the incoming location."""
        return None

    def hold_shelf_expired(self, *, hold) -> None:
        """The patron did not pick the item up in time; it goes back to the RS library."""

    def renew_ill_loan(self, *, loan, user, by_patron: bool) -> RenewOutcome:
        """Renew an ILL loan through its borrowing request (not an ordinary renewal). The
        desk has already checked the renewal window and the ILL maximum."""
        from django.utils.translation import gettext as _

        return RenewOutcome(RenewOutcome.REFUSED,
                            _("ILL loans can only be renewed through their borrowing request, "
                              "and none is connected."))

    def auto_renewal_refused(self, *, loan, reason: str) -> None:
        """The auto-renew job could not renew this ILL loan (of a patron group whose loans
        renew automatically, i.e. staff): tell staff and the patron, with `reason`."""

    def scan_undone(self, *, item, outcome: str, user) -> None:
        """Staff undid the desk scan with this outcome code (e.g. "returned"): put the request
        back the way it was if the scan had moved it."""


_default = IllBridge()
_bridge: IllBridge = _default


def register_ill_bridge(bridge: IllBridge | None) -> IllBridge:
    """Install ILL's bridge (None restores the default); returns the previous one."""
    global _bridge
    previous = _bridge
    _bridge = bridge if bridge is not None else _default
    return previous


def ill_bridge() -> IllBridge:
    return _bridge
