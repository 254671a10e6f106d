"""Checks at intake: what to tell a patron (or an outside form, or staff) before a borrowing
request is made, in plain words.

- the own collection has an available copy (for a loan or a chapter: the book; for an
  article: the journal);
- the patron already has an open request for the same work;
- the patron is blocked, the card has expired, or (for a loan) the patron is at the loan limit.

Each check says whether it refuses. What refuses is the caller's setting (the portal and the
API read the institution's portal settings): `refuse` names the check codes that stop the
request; the others are warnings. Nothing here changes anything.

Two entry points share this module:

- `intake_checks` (the patron portal and the API): the patron's words, each check refusing
  or warning as the caller's settings say;
- `creation_checks` / `request_checks` (the staff form and the request page): every copy of
  ours that matches (identifiers first, then title and author, as lending's locate matches,
  `fulfillment.matching`), with its shelf and availability, for a one-click hold on ours
  instead; the patron's open requests for the same work; what keeps the patron from
  borrowing, as the desk says it.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from types import SimpleNamespace

from django.db.models import Q
from django.utils.translation import gettext as _

from circulation.services import patron_problems
from fulfillment import matching
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


# --- staff: the form and the request page (creation_checks) --------------------------------------------------

MATCH_FIELDS = ("isbn", "issn", "oclc_number", "title", "article_title", "author", "year")


@dataclass(frozen=True)
class OwnCopy:
    """One of our items that matches the citation, as staff read it."""

    item_id: int
    barcode: str
    title: str
    library: str
    location: str
    call_number: str
    status: str
    available: bool
    matched_by: str  # "identifier" or "title"


@dataclass(frozen=True)
class Duplicate:
    """An open request of the same patron for the same work."""

    pk: int
    number: str
    status: str
    title: str


@dataclass
class CreationChecks:
    own_copies: list[OwnCopy] = dataclasses.field(default_factory=list)
    duplicates: list[Duplicate] = dataclasses.field(default_factory=list)
    patron_problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.own_copies or self.duplicates or self.patron_problems)


def _citation(institution_id: int, citation: dict) -> SimpleNamespace:
    return SimpleNamespace(institution_id=institution_id, **{
        name: (citation.get(name) or "").strip() for name in MATCH_FIELDS})


def own_copies(*, institution, citation: dict, limit: int = 20) -> list[OwnCopy]:
    """Our own items that match the citation: identifiers first, then title and author
    (the catalogue's matching, as lending's locate uses it)."""
    wanted = _citation(institution.pk, citation)
    if not (wanted.title or wanted.isbn or wanted.issn or wanted.oclc_number):
        return []
    status = dict(Item.Status.choices)
    copies = []
    for candidate in matching.find_candidates(wanted, limit=limit):
        item = candidate.item
        home = item.permanent_location
        copies.append(OwnCopy(
            item_id=item.pk, barcode=item.primary_barcode, title=item.bib.title,
            library=home.library.name, location=home.name,
            call_number=item.call_number, status=str(status.get(item.status, item.status)),
            available=candidate.available, matched_by=candidate.matched_by))
    return copies


def duplicate_requests(*, patron, citation: dict,
                       exclude_pk: int | None = None) -> list[Duplicate]:
    """The patron's open borrowing requests for the same work: the same ISBN or ISSN (and
    article title, for a part), else the same title."""
    wanted = _citation(patron.institution_id, citation)
    rows = (BR.objects.filter(institution_id=patron.institution_id, patron=patron)
            .exclude(status__in=BR.FINAL))
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    same = Q(pk__in=[])
    if matching.isbn_variants(wanted.isbn):
        same |= Q(isbn__in=matching.isbn_variants(wanted.isbn) | {wanted.isbn})
    title = matching.normalize_title(wanted.title)
    if title:
        key = max(title.split(), key=len)
        same |= Q(title__icontains=key)
    if matching.issn_variants(wanted.issn):
        same |= Q(issn__in=matching.issn_variants(wanted.issn) | {wanted.issn})
    status = dict(BR.Status.choices)
    found = []
    for r in rows.filter(same).only("number", "status", "title", "article_title", "isbn",
                                    "issn")[:20]:
        same_id = bool(wanted.isbn and r.isbn and matching.isbn_variants(r.isbn)
                       & matching.isbn_variants(wanted.isbn))
        same_title = bool(title) and matching.normalize_title(r.title) == title
        if not (same_id or same_title):
            continue
        part = matching.normalize_title(wanted.article_title)
        if (part or r.article_title) and matching.normalize_title(r.article_title) != part:
            continue  # another article of the same journal
        found.append(Duplicate(pk=r.pk, number=r.number,
                               status=str(status.get(r.status, r.status)),
                               title=r.article_title or r.title))
    return found


def patron_standing(patron) -> list[str]:
    """What keeps the patron from borrowing now (blocked, expired, at the loan limit), as
    the desk says it; empty when nothing does."""
    return [problem.message for problem in patron_problems(patron)]


def creation_checks(*, institution, patron, citation: dict,
                    exclude_pk: int | None = None) -> CreationChecks:
    """Everything staff should see before creating (or sending) the request."""
    return CreationChecks(
        own_copies=own_copies(institution=institution, citation=citation),
        duplicates=duplicate_requests(patron=patron, citation=citation, exclude_pk=exclude_pk)
        if patron is not None else [],
        patron_problems=patron_standing(patron) if patron is not None else [])


def request_checks(request: BorrowingRequest) -> CreationChecks:
    """The same checks for an existing request (its page)."""
    return creation_checks(
        institution=request.institution, patron=request.patron,
        citation={name: getattr(request, name) for name in MATCH_FIELDS},
        exclude_pk=request.pk)
