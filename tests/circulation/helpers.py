"""Desk test helpers: a recording ILL bridge standing in for `ill`, and builders for
patrons and ILL items as the borrowing code makes them. Used by tests/circulation and tests/e2e/browser."""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from circulation import services
from circulation.hooks import IllBridge, IllItemInfo, RenewOutcome, ScanAdvice
from circulation.models import Hold
from fulfillment.models import BibRecord, Holding, Item, ItemBarcode
from kauko import roles
from patrons.models import Block
from tests import factories as f


class RecordingBridge(IllBridge):
    """Remembers every call and answers what the test sets."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.due_at: datetime.datetime | None = None
        self.renew_answer = RenewOutcome(RenewOutcome.REQUESTED, "Renewal sent to the partner.")
        self.advice: ScanAdvice | None = ScanAdvice(
            "Return to partner National Repository Library: print the return slip.",
            level="action", slip_code="return_slip",
            slip_context={"partner": {"name": "National Repository Library",
                                      "address": "PO Box 1710, Kuopio"}})

    def names(self) -> list[str]:
        return [name for name, _kw in self.calls]

    def describe_item(self, *, item):
        if not item.is_temporary:
            return None
        return IllItemInfo(request_number=f"B-{item.pk}", request_url=f"/borrowing/{item.pk}/",
                           partner_name="National Repository Library")

    def loan_due_date(self, *, item, patron):
        self.calls.append(("loan_due_date", {"item": item, "patron": patron}))
        return self.due_at

    def item_arrived_at_desk(self, *, item, hold, desk, user):
        self.calls.append(("item_arrived_at_desk", {"item": item, "hold": hold, "desk": desk}))

    def item_loaned(self, *, loan, user):
        self.calls.append(("item_loaned", {"loan": loan}))

    def item_returned(self, *, loan, desk, user):
        self.calls.append(("item_returned", {"loan": loan, "desk": desk}))

    def item_back_at_rs_library(self, *, item, user):
        self.calls.append(("item_back_at_rs_library", {"item": item}))
        return self.advice

    def hold_shelf_expired(self, *, hold):
        self.calls.append(("hold_shelf_expired", {"hold": hold}))

    def renew_ill_loan(self, *, loan, user, by_patron):
        self.calls.append(("renew_ill_loan", {"loan": loan, "by_patron": by_patron}))
        return self.renew_answer

    def scan_undone(self, *, item, outcome, user):
        self.calls.append(("scan_undone", {"item": item, "outcome": outcome}))


def desk_world(bridge, *, username="desk", password=None):
    """An institution with an RS library (its own desk), a main library with a pickup desk, a
    branch library with a desk, the usual patron groups and a circulation desk user."""
    inst = f.institution("OTA", languages="en,fi,sv")
    setup = f.rs_setup(inst)
    groups = {
        "STUDENT": f.patron_group(inst, "STUDENT", loan_limit=30),
        "STAFF": f.patron_group(inst, "STAFF", loan_limit=50, may_use_office_delivery=True),
        "EXTERNAL": f.patron_group(inst, "EXTERNAL", loan_limit=2),
    }
    branch = f.library(inst, "BRANCH", name="Branch library")
    branch_desk = f.desk(branch, "BRANCH-DESK", name="Branch desk")
    desk_user = f.staff(inst, roles.CIRCULATION, username=username)
    if password:
        desk_user.set_password(password)
        desk_user.save()
    return SimpleNamespace(inst=inst, setup=setup, desk=setup.desk, rs_desk=setup.rs_desk,
                           branch=branch, branch_desk=branch_desk, groups=groups,
                           user=desk_user, bridge=bridge)


def make_patron(world, group="STUDENT", **kw):
    kw.setdefault("email", "pat@example.org")
    kw.setdefault("expiry_date", timezone.localdate() + datetime.timedelta(days=365))
    return f.patron(world.inst, world.groups[group], **kw)


def block(patron, reason="fines", note="Unpaid fees", amount="45.00"):
    return Block.objects.create(institution=patron.institution, patron=patron, reason=reason,
                                note=note, amount_owed=Decimal(amount) if amount else None)


def ill_item(world, patron, *, barcodes=("PART-1",), pickup_desk="default",
             office_delivery=False, address="", desk_pickup_only=False, received=True,
             title="Borrowed book"):
    """A temporary ILL item with its hold, as the borrowing code makes it; `received` sends it
    in transit to the pickup desk as the RS office's receive does."""
    inst, incoming = world.inst, world.setup.incoming
    bib = BibRecord.objects.create(institution=inst, title=title, hidden=True)
    holding = Holding.objects.create(institution=inst, bib=bib, location=incoming)
    item = Item.objects.create(institution=inst, holding=holding, bib=bib, location=incoming,
                               permanent_location=incoming, is_temporary=True,
                               status=Item.Status.IN_PLACE if received
                               else Item.Status.ILL_AWAITING)
    for value in barcodes:
        kind = ItemBarcode.Kind.PARTNER
        if isinstance(value, tuple):
            value, kind = value
        ItemBarcode.objects.create(institution=inst, item=item, barcode=value, kind=kind)
    hold = Hold.objects.create(
        institution=inst, patron=patron, bib=bib, item=item, is_ill=True,
        pickup_desk=world.desk if pickup_desk == "default" else pickup_desk,
        office_delivery=office_delivery, delivery_address=address,
        desk_pickup_only=desk_pickup_only)
    if received:
        services.send_item_to_pickup(item=item, hold=hold, user=world.user)
    return item, hold


def own_item(world, barcodes=("OWN-1",), location=None, **kw):
    return f.item(location or world.setup.stacks, barcodes=barcodes, **kw)
