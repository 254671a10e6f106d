"""Small pieces both directions of ISO 18626 share: agency ids, message summaries."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ill import iso18626 as iso
from kauko.formats import short_date
from kauko.i18n import gettext as _  # history notes read in each reader's language


def agency_of(owner) -> iso.AgencyId:
    """The AgencyId of an Institution or a Partner (both have agency_id_type/value)."""
    return iso.AgencyId(owner.agency_id_type or "ISIL", owner.agency_id_value)


def agency_text(agency: iso.AgencyId | None) -> str:
    return str(agency) if agency is not None else ""


def now_ms() -> datetime:
    # Milliseconds: some peers' date parsers choke on microseconds.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def storable(text: str | None, limit: int | None = None) -> str:
    """Text any database can keep: a partner's answer may hold a NUL byte (PostgreSQL
    refuses it in text), an exception's text unpaired surrogates. A NUL becomes U+FFFD, a
    surrogate "?"; `limit` cuts the text to that many characters."""
    text = (text or "").replace("\x00", "\ufffd")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit is not None else text


URL_RE = re.compile(r"https?://[^\s<>\"\]]+")


def first_url(text: str | None) -> str:
    match = URL_RE.search(text or "")
    return match.group(0).rstrip(".,;)") if match else ""


def summary_fields(body) -> dict:
    """What the conversation shows of a message, without parsing the XML again."""
    fields = {"kind": body.kind.value, "action": "", "reason_for_message": "", "status": "",
              "note": ""}
    if isinstance(body, iso.RequestingAgencyMessage):
        fields["action"] = str(body.action or "")
        fields["note"] = body.note or ""
    elif isinstance(body, iso.SupplyingAgencyMessage):
        fields["reason_for_message"] = str(body.message_info.reason_for_message or "")
        fields["status"] = str(body.status_info.status or "")
        fields["note"] = body.message_info.note or ""
    elif isinstance(body, iso.Request):
        fields["note"] = (body.service_info.note or "") if body.service_info else ""
    fields["summary"] = describe(body)[:300]
    return fields


def describe(body) -> str:
    """One readable line for staff: what the message says."""
    if isinstance(body, iso.Request):
        kind = (body.service_info.request_type if body.service_info else None) or "New"
        title = body.bibliographic_info.title or ""
        return _("Request (%(type)s): %(title)s") % {"type": kind, "title": title}
    if isinstance(body, iso.RequestingAgencyMessage):
        return _("Requester: %(action)s") % {"action": body.action or "?"}
    if isinstance(body, iso.SupplyingAgencyMessage):
        info, status = body.message_info, body.status_info
        parts = [str(info.reason_for_message or "?")]
        if status.status:
            parts.append(str(status.status))
        if info.answer_yes_no:
            parts.append(_("answer %(yn)s") % {"yn": info.answer_yes_no})
        if info.reason_unfilled:
            parts.append(str(info.reason_unfilled))
        if info.reason_retry:
            parts.append(str(info.reason_retry))
        if status.due_date:
            parts.append(_("due %(date)s") % {"date": short_date(status.due_date)})
        return _("Supplier: %(what)s") % {"what": ", ".join(parts)}
    return body.kind.value


# The credentials in a requester's header (theirs coming in, ours going out); what is stored shows that they came,
# never what they were (the message log is readable by every staff role). Found without
# a backtracking pattern, so a body full of unclosed openings stays linear.
_CREDENTIAL = re.compile(r"<((?:[\w.-]+:)?(?:accountId|securityCode))(?:\s[^<>]*)?>")
MASK = "********"


def mask_credentials(text: str) -> str:
    parts, pos = [], 0
    for match in _CREDENTIAL.finditer(text):
        if match.start() < pos:
            continue
        start = match.end()
        end = text.find(f"</{match.group(1)}", start, start + 256)
        if end < 0:  # cut short (a truncated message) or odd: hide up to the next tag
            end = text.find("<", start)
            end = len(text) if end < 0 or text.startswith("<![CDATA[", end) else end
        parts += [text[pos:start], MASK]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)
