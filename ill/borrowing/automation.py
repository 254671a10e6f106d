"""Automation at creation: which rule chooses a new request's rota (and why), the template's
partners in the order to ask them (equal ranks load-balanced), and the own collection first.

Nothing here sends anything: `borrowing_request_create` calls `assign_rota` inside its
transaction; sending without a click is `ill.borrowing.autosend`, run after commit.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from ill.borrowing.checks import own_available_items
from ill.models import AssignmentRule, AutomationSettings, BorrowingRequest, RotaEntry
from kauko.i18n import gettext as _  # history notes read in each reader's language
from partners.models import Partner

BR = BorrowingRequest
IDENTIFIERS = ("isbn", "issn", "oclc_number", "doi", "pmid")


@dataclass(frozen=True)
class RotaChoice:
    rule: AssignmentRule | None
    reason: str
    partners: list[Partner]
    auto_send: bool


def request_format(request) -> str:
    if (request.issn or "").strip():
        return AssignmentRule.Format.SERIAL
    if (request.isbn or "").strip():
        return AssignmentRule.Format.BOOK
    return AssignmentRule.Format.OTHER


def rule_matches(rule: AssignmentRule, request) -> list[str] | None:
    """The rule's conditions the request meets, in words; None when one is not met."""
    said: list[str] = []
    if rule.request_type:
        if request.request_type != rule.request_type:
            return None
        said.append(_("type is %(v)s") % {"v": rule.get_request_type_display()})
    if rule.format:
        if request_format(request) != rule.format:
            return None
        said.append(_("format is %(v)s") % {"v": rule.get_format_display()})
    if rule.patron_group_id:
        if request.patron.group_id != rule.patron_group_id:
            return None
        said.append(_("patron group is %(v)s") % {"v": rule.patron_group.name})
    if rule.pickup_desk_id:
        if request.pickup_desk_id != rule.pickup_desk_id:
            return None
        said.append(_("pickup at %(v)s") % {"v": rule.pickup_desk.name})
    if rule.office_delivery:
        if not request.office_delivery:
            return None
        said.append(_("office delivery"))
    if rule.identifier:
        present = [f for f in IDENTIFIERS if (getattr(request, f) or "").strip()]
        if rule.identifier == AssignmentRule.Identifier.NONE:
            if present:
                return None
            said.append(_("no identifier"))
        else:
            if rule.identifier not in present:
                return None
            said.append(_("has an %(v)s") % {"v": rule.get_identifier_display()})
    if rule.partner_scope:
        said.append(str(rule.get_partner_scope_display()).lower())
    return said


def period_start(now: datetime.datetime | None = None) -> datetime.datetime:
    """Load balancing counts requests sent since the first of this month."""
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def template_partners(rule: AssignmentRule, *, now=None) -> list[Partner]:
    """The template's active partners in order: by rank, and within a rank the partner sent
    the fewest of this institution's requests this period first."""
    entries = list(rule.template.entries.select_related("partner")
                   .filter(partner__active=True, partner__institution_id=rule.institution_id))
    if rule.partner_scope == AssignmentRule.Scope.DOMESTIC:
        entries = [e for e in entries if not e.partner.is_international]
    elif rule.partner_scope == AssignmentRule.Scope.INTERNATIONAL:
        entries = [e for e in entries if e.partner.is_international]
    sent = dict(RotaEntry.objects.filter(
        partner_id__in=[e.partner_id for e in entries], asked_at__gte=period_start(now))
        .values("partner_id").annotate(n=Count("pk")).values_list("partner_id", "n"))
    entries.sort(key=lambda e: (e.rank, sent.get(e.partner_id, 0), e.pk))
    return [e.partner for e in entries]


def choose_rota(request) -> RotaChoice:
    """The first active rule (in order) the request matches, and the rota it gives."""
    settings = AutomationSettings.for_institution(request.institution)
    rules = (AssignmentRule.objects.filter(institution=request.institution, active=True)
             .select_related("template", "patron_group", "pickup_desk")
             .order_by("position", "pk"))
    rules = list(rules)
    if not rules:  # an institution that routes by hand: nothing to say
        return RotaChoice(None, "", [], False)
    for rule in rules:
        said = rule_matches(rule, request)
        if said is None:
            continue
        reason = _("Rule “%(rule)s” (template “%(template)s”): %(why)s.") % {
            "rule": rule.name, "template": rule.template.name,
            "why": ", ".join(said) or _("matches every request")}
        return RotaChoice(rule, reason[:300], template_partners(rule),
                          rule.auto_send or settings.auto_send)
    return RotaChoice(None, _("No assignment rule matched: choose the partners by hand."),
                      [], False)


def own_copy_words(request) -> str:
    """Self-ownership first: our own available copy, in words for staff, or ""."""
    items = own_available_items(institution=request.institution,
                                citation={f: getattr(request, f) for f in BR.CITATION_FIELDS},
                                request_type=request.request_type)
    if not items:
        return ""
    item = items[0]
    return (_("Our own copy is on the shelf (%(where)s, %(call)s): offer the patron a hold "
              "on it (Fill from collection). Not sent automatically.") % {
        "where": item.location.library.name, "call": item.call_number or item.bib.title}
            )[:300]


def expected_arrival(request) -> datetime.date | None:
    """When the item or copy should arrive: the day the current partner was asked plus its
    average supply time."""
    if request.status not in (*BR.AT_PARTNER, BR.S.SHIPPED_PHYSICAL) or not request.partner_id:
        return None
    asked = [e for e in request.rota.all()  # prefetched on lists
             if e.outcome == RotaEntry.Outcome.ASKED and e.asked_at is not None]
    if not asked:
        return None
    entry = max(asked, key=lambda e: e.position)
    days = request.partner.average_supply_days or 0
    return timezone.localdate(entry.asked_at) + datetime.timedelta(days=days)


def open_auto_requests():
    return Q(auto_send=True) & ~Q(status__in=BR.FINAL)
