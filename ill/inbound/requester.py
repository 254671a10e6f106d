"""ISO 18626 from a requesting partner (we supply): a Request becomes a lending request,
a requesting-agency message (RAM) moves one, always through the lending services."""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import connection

from ill import iso18626 as iso
from ill.inbound.common import (
    ET,
    PARTNER,
    ROUTING_FIELDS,
    Refusal,
    in_model_order,
    message_on,
    row_lock,
)
from ill.lending import services as ls
from ill.models import LendingRequest
from kauko.i18n import gettext as _  # history notes read in each reader's language

LR = LendingRequest

_cost = LR._meta.get_field("max_cost")
MAX_COST = Decimal(10) ** (_cost.max_digits - _cost.decimal_places)


def _address_text(address) -> str:
    if isinstance(address, iso.PhysicalAddress):
        return "\n".join(str(p) for p in (address.line1, address.line2, " ".join(
            str(p) for p in (address.postal_code, address.locality) if p), address.country)
            if p)
    if isinstance(address, iso.ElectronicAddress):
        return address.electronic_address_data
    return ""


def citation_from(bib: iso.BibliographicInfo, pub: iso.PublicationInfo | None) -> dict:
    ids = {str(i.code).upper(): i.identifier for i in bib.bibliographic_item_ids}
    records = {str(i.code).upper(): i.identifier for i in bib.bibliographic_record_ids}
    pub = pub or iso.PublicationInfo()
    citation = {
        "title": bib.title or bib.title_of_component or _("(no title given)"),
        "author": bib.author or "", "article_title": bib.title_of_component or "",
        "article_author": bib.author_of_component or "",
        "volume": "; ".join(bib.volumes), "issue": bib.issue or "",
        "pages": bib.pages_requested or "", "edition": bib.edition or "",
        "year": (pub.publication_date or "")[:20], "publisher": pub.publisher or "",
        "place_of_publication": pub.place_of_publication or "",
        "isbn": ids.get("ISBN", ""), "issn": ids.get("ISSN", ""),
        "oclc_number": records.get("OCLC", ""), "doi": records.get("DOI", ids.get("DOI", "")),
        "pmid": records.get("PMID", ""),
    }
    limits = {f.name: f.max_length for f in LR._meta.fields if f.name in citation}
    return {k: (v[:limits[k]] if limits.get(k) else v) for k, v in citation.items()}


def on_request(message, stored, institution, partner) -> None:
    body: iso.Request = message.body
    rid = body.header.requesting_agency_request_id or ""
    existing = LendingRequest.objects.filter(institution=institution, partner=partner,
                                             partner_request_id=rid).first()
    if existing is not None:
        stored.lending_request = existing
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "requestingAgencyRequestId: %(id)s was received already (our request %(number)s)"
        ) % {"id": rid, "number": existing.number})
    info = body.service_info or iso.ServiceInfo()
    service_type = {iso.ServiceType.COPY: LR.ServiceType.COPY,
                    iso.ServiceType.COPY_OR_LOAN: LR.ServiceType.COPY_OR_LOAN}.get(
        info.service_type, LR.ServiceType.LOAN)
    delivery = body.requested_delivery_info[0] if body.requested_delivery_info else None
    costs = body.billing_info.maximum_costs if body.billing_info else None
    if costs is not None and abs(costs.monetary_value) >= MAX_COST:
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "maximumCosts: %(value)s is more than we can record") % {
            "value": costs.monetary_value})
    notes = [info.note or ""]
    if info.request_type == iso.RequestType.RETRY and info.requesting_agency_previous_request_id:
        notes.append(_("Retry of request %(id)s.") % {
            "id": info.requesting_agency_previous_request_id})
    request = ls.lending_request_create(
        institution=institution, partner=partner, partner_request_id=rid,
        citation=citation_from(body.bibliographic_info, body.publication_info),
        service_type=service_type,
        needed_before=info.need_before_date.date() if info.need_before_date else None,
        requested_delivery=str(delivery.delivery_method or "")[:200] if delivery else "",
        delivery_address=_address_text(delivery.address) if delivery else "",
        max_cost=costs.monetary_value if costs else None,
        partner_note="\n".join(n for n in notes if n), source=PARTNER, locate=True)
    stored.lending_request = request


def _lending_for(institution, partner, rid: str) -> LendingRequest:
    # One plain query with the routing fields (as for supplier messages, see _attempt).
    fields = in_model_order(LR, (*ROUTING_FIELDS, "partner_request_id"))
    # Locked for the message's transaction (where the database can): two messages about one
    # request are handled one after the other, so each sees what the other wrote (two
    # StatusRequests at once would otherwise both take the same outbox sequence number).
    sql = (f"SELECT {', '.join(fields)} FROM {LR._meta.db_table} WHERE institution_id = %s "
           f"AND partner_id = %s AND partner_request_id = %s LIMIT 1{row_lock()}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [institution.pk, partner.pk, rid])
        row = cursor.fetchone()
    if row is not None:
        return LR.from_db(connection.alias, fields, row)
    if LendingRequest.objects.filter(institution=institution, partner_request_id=rid).exists():
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "requestingAgencyId: request %(id)s does not belong to %(agency)s") % {
            "id": rid, "agency": f"{partner.agency_id_type}:{partner.agency_id_value}"})
    raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
        "requestingAgencyRequestId: %(id)s is not a request we know") % {"id": rid})


ACCEPT_NOTE = re.compile(r"^\s*(ACCEPT|#ReShareLoanConditionAgreeResponse#)", re.I)


REJECT_NOTE = re.compile(r"^\s*(REJECT|#ReShareLoanConditionRejectResponse#)", re.I)


def on_ram(body: iso.RequestingAgencyMessage, stored, institution, partner) -> None:
    request = _lending_for(institution, partner, body.header.requesting_agency_request_id)
    stored.lending_request = request
    note = body.note or ""
    action = body.action
    A = iso.Action
    if action == A.RECEIVED:
        ls.lending_request_partner_received(request=request, note=note, source=PARTNER)
    elif action == A.SHIPPED_RETURN:
        ls.lending_request_returned(request=request, note=note, source=PARTNER)
    elif action == A.RENEW:
        ls.lending_request_renewal_asked(request=request, note=note, source=PARTNER)
    elif action == A.CANCEL:
        if request.status == LR.S.CONDITIONAL:
            # Refusing our conditions is a cancel (DOMAIN.md §5); the request ends.
            ls.lending_request_cancelled_during_conditions(request=request, note=note)
        elif request.status in (LR.S.CREATED, LR.S.LOCATE_FAILED):
            ls.lending_request_cancel_answer(request=request, cancelled=True, note=note,
                                             source=PARTNER)
        elif request.status in LR.BEFORE_SHIPPING:
            # Our item may be off the shelf already: staff say yes or no.
            ls.lending_request_cancel_asked(request=request, note=note)
        else:
            ls.lending_request_cancel_answer(
                request=request, cancelled=False, source=PARTNER,
                note=_("Already shipped: it cannot be cancelled any more."))
    elif action == A.NOTIFICATION:
        if request.status == LR.S.CONDITIONAL and ACCEPT_NOTE.match(note):
            ls.lending_request_condition_answer(request=request, accepted=True, note=note,
                                                source=PARTNER)
        elif request.status == LR.S.CONDITIONAL and REJECT_NOTE.match(note):
            request = ls.lending_request_condition_answer(request=request, accepted=False,
                                                          note=note, source=PARTNER)
        else:
            message_on(request, stored, note)
    elif action == A.STATUS_REQUEST:
        ls.lending_request_status_asked(request=request)
    elif action == A.LOST:
        ls.lending_request_report(request=request, what="lost", note=note, source=PARTNER)
    else:
        raise Refusal(ET.UNSUPPORTED_ACTION_TYPE, _(
            "action: %(action)s is not supported here") % {"action": action})
