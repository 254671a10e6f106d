"""A small CQL parser and its translation onto the catalogue (BibRecord).

Enough CQL for a catalogue search by identifier, title and author: search clauses
(`index relation "term"` or a bare term), the booleans and / or / not, parentheses. Anything
else (proximity, modifiers, sort clauses, an index or relation we do not know) is refused with
the SRU diagnostic that names it. No ILL, no HTTP: the SRU view (fulfillment.sru) uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace, Upper

from fulfillment.models import BibRecord


class CQLError(Exception):
    """A query we cannot answer; `code` is the SRU diagnostic number (info:srw/diagnostic/1/N)."""

    def __init__(self, code: int, message: str, details: str = ""):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


# --- Parsing ---------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|(==|<>|<=|>=|[=<>/])|([^\s()"=<>/]+))')
_BOOLEANS = {"and", "or", "not", "prox"}
_WORD_RELATIONS = {"all", "any", "adj", "exact", "within", "encloses"}


@dataclass(frozen=True)
class Clause:
    index: str  # lower-case; "cql.serverchoice" for a bare term
    relation: str
    term: str


@dataclass(frozen=True)
class Boolean:
    op: str
    left: Clause | Boolean
    right: Clause | Boolean


def _tokens(query: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    query = query.strip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            raise CQLError(10, "Query syntax error", query[pos:pos + 20])
        pos = match.end()
        lpar, rpar, quoted, symbol, word = match.groups()
        if lpar:
            out.append(("(", "("))
        elif rpar:
            out.append((")", ")"))
        elif quoted is not None:
            out.append(("term", re.sub(r"\\(.)", r"\1", quoted[1:-1])))
        elif symbol:
            out.append(("sym", symbol))
        else:
            out.append(("word", word))
    return out


class _Parser:
    def __init__(self, query: str):
        self.tokens = _tokens(query)
        self.pos = 0

    def peek(self, offset: int = 0):
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            raise CQLError(10, "Query syntax error", "empty query")
        node = self.query()
        if self.pos < len(self.tokens):
            raise CQLError(10, "Query syntax error", str(self.peek()[1]))
        return node

    def query(self):
        node = self.clause()
        while True:
            kind, value = self.peek()
            if kind != "word" or value.lower() not in _BOOLEANS:
                return node
            self.take()
            op = value.lower()
            if self.peek() == ("sym", "/"):
                raise CQLError(46, "Unsupported boolean modifier", op)
            if op == "prox":
                raise CQLError(37, "Unsupported boolean operator", op)
            node = Boolean(op=op, left=node, right=self.clause())

    def clause(self):
        kind, value = self.peek()
        if kind == "(":
            self.take()
            node = self.query()
            if self.take()[0] != ")":
                raise CQLError(13, "Invalid or unsupported use of parentheses")
            return node
        if kind not in ("word", "term"):
            raise CQLError(10, "Query syntax error", str(value or "end of query"))
        self.take()
        next_kind, next_value = self.peek()
        relation = None
        if next_kind == "sym" and next_value != "/":
            relation = next_value
        elif next_kind == "word" and next_value.lower() in _WORD_RELATIONS:
            relation = next_value.lower()
        if relation is None:
            return Clause(index="cql.serverchoice", relation="=", term=value)
        if kind == "term":
            raise CQLError(10, "Query syntax error", "a quoted index")
        self.take()
        if self.peek() == ("sym", "/"):
            raise CQLError(20, "Unsupported relation modifier", relation)
        term_kind, term = self.take()
        if term_kind not in ("word", "term"):
            raise CQLError(10, "Query syntax error", "missing search term")
        return Clause(index=value.lower(), relation=relation, term=term)


def parse(query: str):
    return _Parser(query).parse()


# --- Translation onto the catalogue ----------------------------------------------------

ISBN_INDEXES = {"bath.isbn", "isbn", "rec.isbn"}
ISSN_INDEXES = {"bath.issn", "issn", "rec.issn"}
OCLC_INDEXES = {"rec.id", "oclc", "bath.oclcnumber", "oclc.no", "bath.standardidentifier"}
IDENTIFIER_INDEXES = {"dc.identifier", "bath.identifier"}
TITLE_INDEXES = {"dc.title", "bath.title", "title"}
AUTHOR_INDEXES = {"dc.creator", "dc.author", "bath.author", "bath.name", "author", "creator"}
ANYWHERE_INDEXES = {"cql.anywhere", "cql.serverchoice", "cql.keywords", "anywhere"}
INDEXES = (ISBN_INDEXES | ISSN_INDEXES | OCLC_INDEXES | IDENTIFIER_INDEXES | TITLE_INDEXES
           | AUTHOR_INDEXES | ANYWHERE_INDEXES)
TEXT_RELATIONS = {"=", "==", "exact", "all", "any", "adj"}


def normalize_identifier(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value or "").upper()


def isbn_variants(value: str) -> set[str]:
    """The ISBN either way: 10 or 13 digits (hyphens and spaces aside)."""
    digits = normalize_identifier(value)
    if len(digits) == 10 and digits[:9].isdigit():
        core = "978" + digits[:9]
        total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(core))
        return {digits, core + str((10 - total % 10) % 10)}
    if len(digits) == 13 and digits.isdigit() and digits.startswith("978"):
        core = digits[3:12]
        check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(core)) % 11) % 11
        return {digits, core + ("X" if check == 10 else str(check))}
    return {digits} if digits else set()


def oclc_number(value: str) -> str:
    """"(OCoLC)ocm12345", "ocn12345", "on12345" and "12345" are one number."""
    value = normalize_identifier(value)
    value = re.sub(r"^(OCOLC)?(OCM|OCN|ON)?", "", value)
    return value.lstrip("0")


def _normalized(field: str):
    expr = Upper(field)
    for char in ("-", " ", "(", ")"):
        expr = Replace(expr, Value(char), Value(""))
    return expr


def annotate_identifiers(queryset: QuerySet[BibRecord]) -> QuerySet[BibRecord]:
    """Identifiers without hyphens or spaces, compared in the database."""
    return queryset.annotate(isbn_n=_normalized("isbn"), issn_n=_normalized("issn"),
                             oclc_n=_normalized("oclc_number"))


def _oclc_q(term: str) -> Q:
    number = oclc_number(term)
    if not number:
        return Q(pk__in=[])
    # ocm numbers are padded to 8 digits, ocn to 9; catalogues keep them either way.
    numbers = {number, number.zfill(8), number.zfill(9)}
    variants = {f"{prefix}{n}" for n in numbers for prefix in ("", "OCOLC", "OCM", "OCN", "ON")}
    return Q(oclc_n__in=variants)


def _words(term: str) -> list[str]:
    return [w for w in re.split(r"[\s.,:;!?/]+", term) if w]


def _text_q(fields: tuple[str, ...], relation: str, term: str) -> Q:
    if relation in ("==", "exact"):
        return _any_field(fields, "iexact", term.strip())
    if relation == "adj":
        return _any_field(fields, "icontains", " ".join(_words(term)))
    words = _words(term)
    if not words:
        return Q(pk__in=[])
    parts = [_any_field(fields, "icontains", word) for word in words]
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined | part) if relation == "any" else (combined & part)
    return combined


def _any_field(fields, lookup: str, value: str) -> Q:
    q = Q()
    for field in fields:
        q |= Q(**{f"{field}__{lookup}": value})
    return q


def clause_q(clause: Clause) -> Q:
    index, relation, term = clause.index, clause.relation, clause.term
    if index not in INDEXES:
        raise CQLError(16, "Unsupported index", index)
    if relation not in TEXT_RELATIONS:
        raise CQLError(19, "Unsupported relation", relation)
    if index in ISBN_INDEXES:
        return Q(isbn_n__in=isbn_variants(term) or {"-"})
    if index in ISSN_INDEXES:
        return Q(issn_n=normalize_identifier(term) or "-")
    if index in OCLC_INDEXES:
        return _oclc_q(term)
    if index in IDENTIFIER_INDEXES:
        value = normalize_identifier(term) or "-"
        return (Q(isbn_n__in=isbn_variants(term) or {"-"}) | Q(issn_n=value) | _oclc_q(term)
                | Q(doi__iexact=term.strip()))
    if index in TITLE_INDEXES:
        return _text_q(("title",), relation, term)
    if index in AUTHOR_INDEXES:
        return _text_q(("author",), relation, term)
    if relation in ("==", "exact"):
        relation = "all"
    return _text_q(("title", "author", "publisher", "isbn", "issn", "oclc_number"),
                   relation, term)


def to_q(node) -> Q:
    if isinstance(node, Clause):
        return clause_q(node)
    left, right = to_q(node.left), to_q(node.right)
    if node.op == "and":
        return left & right
    if node.op == "or":
        return left | right
    return left & ~right
