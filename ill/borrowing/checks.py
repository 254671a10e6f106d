"""Checks at intake: what to tell a patron (or an outside form, or staff) before a borrowing
request is made, in plain words.

- the own collection has an available copy (for a loan or a chapter: the book; for an
  article: the journal);
- the patron already has an open request for the same work;
- the patron is blocked, the card has expired, or (for a loan) the patron is at the loan limit.

Each check says whether it refuses. What refuses is the caller's setting (the portal and the
API read the institution's portal settings): `refuse` names the check codes that stop the
request; the others are warnings. Nothing here changes anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from circulation.services import patron_problems
from fulfillment.models import BibRecord, Item
from ill.models import BorrowingRequest

BR = BorrowingRequest

OWN_HOLDINGS = "own_holdings"
DUPLICATE = "duplicate"
PATRON = "patron"  # blocked, expired, at the loan limit
ALL_CODES = (OWN_HOLDINGS, DUPLICATE, PATRON)


@dataclass(frozen=True)
class Check:
    code: str  # OWN_HOLDINGS, DUPLICATE or PATRON
    message: str
    refuses: bool
    detail: str = ""  # "blocked", "expired", "loan_limit" for PATRON
    item_id: int | None = None  # our available copy (OWN_HOLDINGS): a hold can be offered
    request_number: str = ""  # the open request (DUPLICATE)


def _digits(value: str) -> str:
    return re.sub(r"[^0-9Xx]", "", value or "").upper()


def _isbn_variants(value: str) -> set[str]:
    digits = _digits(value)
    if len(digits) == 10:
        core = "978" + digits[:9]
        total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(core))
        return {digits, core + str((10 - total % 10) % 10)}
    if len(digits) == 13 and digits.startswith("978"):
        core = digits[3:12]
        check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(core)) % 11) % 11
        return {digits, core + ("X" if check == 10 else str(check))}
    return {digits} if digits else set()


def _issn_variants(value: str) -> set[str]:
    digits = _digits(value)
    if len(digits) != 8:
        return {digits} if digits else set()
    return {digits, f"{digits[:4]}-{digits[4:]}"}


def normalize_title(value: str) -> str:
    """Case, accents, punctuation and the subtitle aside."""
    value = unicodedata.normalize("NFKD", value or "").casefold()
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = re.split(r"\s[:/=]\s|\s:|:\s", value, maxsplit=1)[0]
    return " ".join(re.findall(r"\w+", value))


def own_available_items(*, institution, citation: dict, request_type: str) -> list[Item]:
    """Our items on the shelf that answer the need: by ISBN (ISSN for an article), else by
    the title (the journal's for an article)."""
    bibs = BibRecord.objects.filter(institution=institution, hidden=False)
    if request_type == BR.Type.ARTICLE:
        issns = _issn_variants(citation.get("issn", ""))
        matched = bibs.filter(issn__in=issns) if issns else bibs.none()
    else:
        isbns = _isbn_variants(citation.get("isbn", ""))
        matched = bibs.filter(isbn__in=isbns) if isbns else bibs.none()
    ids = list(matched.values_list("pk", flat=True)[:20])
    wanted = normalize_title(citation.get("title", ""))
    if not ids and wanted:
        key = max(wanted.split(), key=len)
        ids = [bib.pk for bib in bibs.filter(title__icontains=key).only("pk", "title")[:200]
               if normalize_title(bib.title) == wanted]
    if not ids:
        return []
    return list(Item.objects.filter(
        institution=institution, bib_id__in=ids, is_temporary=False,
        status=Item.Status.IN_PLACE).select_related("bib", "location__library")
        .order_by("pk")[:5])


def open_duplicates(*, patron, citation: dict, request_type: str) -> list[BorrowingRequest]:
    """The patron's open requests for the same work (same identifier, or same titles)."""
    open_requests = BorrowingRequest.objects.filter(patron=patron).exclude(status__in=BR.FINAL)
    same = Q(pk__in=[])
    for field in ("doi", "pmid", "isbn"):
        value = (citation.get(field) or "").strip()
        if value:
            same |= Q(**{f"{field}__iexact": value})
    found = [r for r in open_requests.filter(same).only("number", "title", "article_title")]
    title = normalize_title(citation.get("title", ""))
    part = normalize_title(citation.get("article_title", ""))
    if title and not found:
        key = max(title.split(), key=len)
        found = [r for r in open_requests.filter(title__icontains=key)
                 .only("number", "title", "article_title")
                 if normalize_title(r.title) == title
                 and normalize_title(r.article_title) == part]
    return found


def intake_checks(*, institution, patron, citation: dict, request_type: str = BR.Type.LOAN,
                  refuse=ALL_CODES) -> list[Check]:
    """Everything the patron should hear before the request is made, refusals first."""
    checks: list[Check] = []
    for problem in patron_problems(patron):
        if problem.code == "loan_limit" and request_type != BR.Type.LOAN:
            continue  # a copy is not a loan
        checks.append(Check(PATRON, _patron_words(problem), PATRON in refuse,
                            detail=problem.code))
    for request in open_duplicates(patron=patron, citation=citation, request_type=request_type):
        checks.append(Check(DUPLICATE, _(
            "You already have an open request for this: %(number)s “%(title)s”. You will hear "
            "from us when it arrives.") % {"number": request.number,
                                          "title": request.article_title or request.title},
            DUPLICATE in refuse, request_number=request.number))
    items = own_available_items(institution=institution, citation=citation,
                                request_type=request_type)
    if items:
        item = items[0]
        where = item.location.library.name
        if request_type == BR.Type.ARTICLE:
            words = _("Our library has this journal on the shelf (%(where)s, %(call)s): "
                      "you may be able to copy the article yourself.")
        else:
            words = _("Our library has a copy on the shelf (%(where)s, %(call)s).")
        checks.append(Check(OWN_HOLDINGS, words % {
            "where": where, "call": item.call_number or item.bib.title},
            OWN_HOLDINGS in refuse, item_id=item.pk))
    return sorted(checks, key=lambda c: not c.refuses)


def _patron_words(problem) -> str:
    if problem.code == "blocked":
        return _("Your library account is blocked, so we cannot take new requests now. "
                 "Please contact the library. (%(why)s)") % {"why": problem.message}
    if problem.code == "expired":
        return _("Your library card has expired. Renew it at the library first.")
    if problem.code == "loan_limit":
        return _("You have as many items on loan as your card allows. Return one first.")
    return str(problem.message)
