"""Small builders for tests: real rows, made quickly, with readable defaults."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group

from fulfillment.models import (
    BibRecord,
    CirculationDesk,
    FulfillmentUnit,
    FulfillmentUnitRule,
    Holding,
    Item,
    ItemBarcode,
    Library,
    Location,
    TermsOfUse,
)
from kauko import roles
from kauko.models import Institution, StaffUser
from partners.models import Partner, WorkflowProfile
from patrons.models import Patron, PatronGroup

_seq = itertools.count(1)


def institution(code: str | None = None, **kw) -> Institution:
    code = code or f"I{next(_seq)}"
    return Institution.objects.create(
        code=code, name=kw.pop("name", f"{code} University Library"),
        agency_id_value=kw.pop("agency_id_value", f"FI-{code}"), **kw)


def library(inst, code="MAIN", **kw) -> Library:
    return Library.objects.create(institution=inst, code=code, name=kw.pop("name", code), **kw)


def terms(inst, name="Normal loan", **kw) -> TermsOfUse:
    return TermsOfUse.objects.create(institution=inst, name=name, **kw)


def unit(inst, code="NORMAL", rules=()) -> FulfillmentUnit:
    fu = FulfillmentUnit.objects.create(institution=inst, code=code, name=code)
    for position, (groups, policies, tou) in enumerate(rules, start=1):
        FulfillmentUnitRule.objects.create(
            institution=inst, fulfillment_unit=fu, position=position, name=f"rule {position}",
            patron_group_codes=groups, item_policy_codes=policies, terms_of_use=tou)
    return fu


def location(lib, code="STACKS", fu=None) -> Location:
    return Location.objects.create(institution=lib.institution, library=lib, code=code,
                                   name=code, fulfillment_unit=fu)


def desk(lib, code="DESK", **kw) -> CirculationDesk:
    return CirculationDesk.objects.create(institution=lib.institution, library=lib, code=code,
                                          name=kw.pop("name", code), **kw)


def item(loc, title="A book", barcodes=("B1",), **kw) -> Item:
    inst = loc.institution
    bib = BibRecord.objects.create(institution=inst, title=title)
    holding = Holding.objects.create(institution=inst, bib=bib, location=loc)
    it = Item.objects.create(institution=inst, holding=holding, bib=bib, location=loc,
                             permanent_location=loc, **kw)
    for value in barcodes:
        kind = ItemBarcode.Kind.OWN
        if isinstance(value, tuple):
            value, kind = value
        ItemBarcode.objects.create(institution=inst, item=it, barcode=value, kind=kind)
    return it


def patron_group(inst, code="STUDENT", **kw) -> PatronGroup:
    return PatronGroup.objects.create(institution=inst, code=code, name=code, **kw)


def patron(inst, group=None, barcode=None, **kw) -> Patron:
    group = group or patron_group(inst, code=f"G{next(_seq)}")
    return Patron.objects.create(institution=inst, group=group,
                                 barcode=barcode or f"P{next(_seq)}",
                                 first_name=kw.pop("first_name", "Pat"),
                                 last_name=kw.pop("last_name", "Ron"), **kw)


def workflow_profile(inst, side=WorkflowProfile.Side.BORROWING, **kw) -> WorkflowProfile:
    return WorkflowProfile.objects.create(institution=inst, name=kw.pop("name", side),
                                          side=side, **kw)


def partner(inst, code=None, **kw) -> Partner:
    code = code or f"PART{next(_seq)}"
    kw.setdefault("email", f"{code.lower()}@example.org")
    return Partner.objects.create(institution=inst, code=code, name=kw.pop("name", code), **kw)


def staff(inst, role=roles.RESOURCE_SHARING, username=None, **kw) -> StaffUser:
    roles.ensure_roles()
    user = StaffUser.objects.create_user(
        username=username or f"user{next(_seq)}", password="pw-for-tests-only",
        institution=inst, is_staff=kw.pop("is_staff", True), **kw)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def rs_setup(inst, *, ill_terms=None):
    """An RS library with incoming/outgoing locations under ILL terms, a main library with a
    desk, and a partner: what a borrowing request needs."""
    from types import SimpleNamespace

    ill_terms = ill_terms or terms(inst, "ILL 28", loan_period_days=28, max_renewals=2,
                                   max_total_loan_days=84, renewal_window_days=7,
                                   auto_renew_patron_groups="STAFF")
    rs = library(inst, "RS", is_rs_library=True,
                 address="Interlending, Library Street 1\n90014 Oulu\nFinland")
    fu_in = unit(inst, f"ILLIN{next(_seq)}", rules=[("", "", ill_terms)])
    incoming = location(rs, "ILL-IN", fu_in)
    outgoing = location(rs, "ILL-OUT", fu_in)
    rs.incoming_location, rs.outgoing_location = incoming, outgoing
    rs.save()
    main = library(inst, "MAIN")
    stacks = location(main, "STACKS", unit(inst, f"N{next(_seq)}",
                                           rules=[("", "", terms(inst, "Normal"))]))
    return SimpleNamespace(rs=rs, incoming=incoming, outgoing=outgoing, main=main,
                           stacks=stacks, desk=desk(main, f"D{next(_seq)}"),
                           rs_desk=desk(rs, f"RSD{next(_seq)}", has_hold_shelf=False,
                                        is_pickup_point=False),
                           terms=ill_terms)


def borrowing_request(inst, *, patron_=None, partners=(), request_type="loan", user=None,
                      setup=None, **kw):
    from ill.borrowing.services import borrowing_request_create

    setup = setup or rs_setup(inst)
    patron_ = patron_ or patron(inst, pickup_desk=setup.desk, email="pat@example.org")
    return borrowing_request_create(
        institution=inst, patron=patron_, request_type=request_type,
        citation=kw.pop("citation", {"title": "Borrowed book", "author": "Writer, A."}),
        partners=partners, user=user, rs_library=setup.rs, **kw)


def lending_request(inst, *, partner_=None, setup=None, user=None, **kw):
    """A partner's lending request, located at once (pass citation= to match an item)."""
    from ill.lending.services import lending_request_create

    setup = setup or rs_setup(inst)
    partner_ = partner_ or partner(inst)
    return lending_request_create(
        institution=inst, partner=partner_, rs_library=setup.rs, user=user,
        citation=kw.pop("citation", {"title": "Lent book", "author": "Author, An"}), **kw)
