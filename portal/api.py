"""The intake API: outside systems (a library's own request form, like Aalto's staff form)
create and read borrowing requests.

`Authorization: Bearer <token>` of an API client (the admin's *API clients*); everything is
scoped to the client's institution. POST makes the request through the same intake as the
patron portal (`portal.intake`): the checks refuse (409, with every reason) or warn (201,
with the warnings) as the institution's portal settings say. Bad input is a 400 with field
errors, never a 500. An `Idempotency-Key` header makes a retried POST get the first answer.
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import authentication, exceptions, permissions, serializers, viewsets
from rest_framework.response import Response

from fulfillment.models import CirculationDesk
from ill.models import BorrowingRequest, Source
from kauko.errors import DomainError
from portal.intake import IntakeNeedsConfirmation, IntakeRefused, intake_request_create
from portal.models import ApiClient, IdempotencyRecord
from portal.selectors import patron_by_identifier
from portal.services import api_client_authenticate

BR = BorrowingRequest
TYPES = {"loan": BR.Type.LOAN, "copy": BR.Type.ARTICLE, "article": BR.Type.ARTICLE,
         "chapter": BR.Type.CHAPTER}
CITATION_FIELDS = [f for f in BR.CITATION_FIELDS if f != "citation_text"]


# --- who is asking ---------------------------------------------------------------------------------


class ApiClientPrincipal:
    """request.user for an API client: its institution and scopes, no staff rights."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, client: ApiClient):
        self.client = client
        self.institution = client.institution
        self.institution_id = client.institution_id
        self.pk = None

    def has_perms(self, perms) -> bool:
        return False

    def __str__(self):
        return f"API client {self.client.name}"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give the token after Bearer."))
        client = api_client_authenticate(token=header[1].decode(errors="replace"))
        if client is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked token."))
        return ApiClientPrincipal(client), client

    def authenticate_header(self, request):
        return self.keyword


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.BearerTokenAuthentication"
    name = "apiClientToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An API client's token (admin: API clients)."}


class HasScope(permissions.BasePermission):
    """The client's scopes allow the action: requests:write to create, requests:read to read."""

    def has_permission(self, request, view):
        principal = request.user
        if not isinstance(principal, ApiClientPrincipal):
            return False
        needed = "requests:write" if request.method == "POST" else "requests:read"
        return needed in principal.client.scope_set


# --- what comes in and goes out ----------------------------------------------------------------------


class CitationSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                  help_text="Book title, or the journal's for an article.")
    author = serializers.CharField(required=False, allow_blank=True, max_length=300)
    article_title = serializers.CharField(required=False, allow_blank=True, max_length=500)
    article_author = serializers.CharField(required=False, allow_blank=True, max_length=300)
    volume = serializers.CharField(required=False, allow_blank=True, max_length=50)
    issue = serializers.CharField(required=False, allow_blank=True, max_length=50)
    pages = serializers.CharField(required=False, allow_blank=True, max_length=50)
    year = serializers.CharField(required=False, allow_blank=True, max_length=20)
    edition = serializers.CharField(required=False, allow_blank=True, max_length=100)
    publisher = serializers.CharField(required=False, allow_blank=True, max_length=300)
    place_of_publication = serializers.CharField(required=False, allow_blank=True,
                                                 max_length=200)
    isbn = serializers.CharField(required=False, allow_blank=True, max_length=20)
    issn = serializers.CharField(required=False, allow_blank=True, max_length=20)
    oclc_number = serializers.CharField(required=False, allow_blank=True, max_length=30)
    doi = serializers.CharField(required=False, allow_blank=True, max_length=200)
    pmid = serializers.CharField(required=False, allow_blank=True, max_length=30)


class IntakeSerializer(serializers.Serializer):
    patron = serializers.CharField(max_length=200,
                                   help_text="The patron's card number or another identifier.")
    type = serializers.ChoiceField(choices=sorted(TYPES), default="loan",
                                   help_text="loan, copy (an article) or chapter.")
    citation = CitationSerializer(required=False, default=dict)
    citation_text = serializers.CharField(
        required=False, allow_blank=True, max_length=4000,
        help_text="The citation as free text: kept whole, read into empty fields.")
    pickup_desk = serializers.CharField(required=False, allow_blank=True, max_length=50,
                                        help_text="A pickup desk's code.")
    office_delivery = serializers.BooleanField(required=False, default=False)
    needed_by = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    copyright_accepted = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        institution = self.context["institution"]
        errors = {}
        patron = patron_by_identifier(institution=institution, value=data["patron"])
        if patron is None:
            errors["patron"] = [_("No patron with that card number or identifier.")]
        desk = None
        if data.get("pickup_desk"):
            desk = CirculationDesk.objects.filter(
                institution=institution, code__iexact=data["pickup_desk"].strip(),
                is_pickup_point=True).first()
            if desk is None:
                errors["pickup_desk"] = [_("No pickup desk with that code.")]
        citation = {k: v for k, v in data.get("citation", {}).items() if v}
        if not (citation.get("title") or "").strip() and not (
                data.get("citation_text") or "").strip():
            errors["citation"] = [_("Give at least a title, or the citation as text.")]
        if errors:
            raise serializers.ValidationError(errors)
        return {**data, "patron": patron, "pickup_desk": desk, "citation": citation}


class HistoryStepSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    status = serializers.CharField()


class CheckSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="own_holdings, duplicate or patron")
    message = serializers.CharField()
    refuses = serializers.BooleanField()


class BorrowingRequestOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    url = serializers.CharField(help_text="This request in the API.")
    type = serializers.CharField()
    title = serializers.CharField()
    article_title = serializers.CharField()
    patron = serializers.CharField(help_text="The patron's card number.")
    source = serializers.CharField()
    created_at = serializers.DateTimeField()
    due_date = serializers.DateField(allow_null=True)
    history = HistoryStepSerializer(many=True)
    warnings = CheckSerializer(many=True, required=False)


TYPE_OUT = {BR.Type.LOAN: "loan", BR.Type.ARTICLE: "copy", BR.Type.CHAPTER: "chapter"}


def request_out(request, obj: BorrowingRequest, *, warnings=()) -> dict:
    body = {
        "number": obj.number, "status": obj.status,
        "status_label": str(obj.get_status_display()),
        "url": request.build_absolute_uri(
            reverse("borrowing-request-detail", args=[obj.number])),
        "type": TYPE_OUT.get(obj.request_type, obj.request_type),
        "title": obj.title, "article_title": obj.article_title,
        "patron": obj.patron.barcode, "source": obj.source,
        "created_at": serializers.DateTimeField().to_representation(obj.created_at),
        "due_date": obj.patron_due_date.isoformat() if obj.patron_due_date else None,
        "history": [{"at": serializers.DateTimeField().to_representation(h.at),
                     "action": str(BR.action_label(h.action)), "status": h.to_status}
                    for h in obj.history.all()],
    }
    if warnings:
        body["warnings"] = [_check(c) for c in warnings]
    return body


def _check(check) -> dict:
    return {"code": check.code, "message": check.message, "refuses": check.refuses}


# --- the endpoint --------------------------------------------------------------------------------------

EXAMPLE_IN = {
    "patron": "OTA-P0003", "type": "copy",
    "citation": {"title": "Nature", "article_title": "Deep learning",
                 "article_author": "LeCun, Yann", "year": "2015", "volume": "521",
                 "pages": "436-444", "doi": "10.1038/nature14539"},
    "pickup_desk": "MAIN-DESK", "note": "For my thesis", "needed_by": "2027-01-31",
}
EXAMPLE_OUT = {
    "number": "OTA-B-2026-000042", "status": "created",
    "status_label": "Created borrowing request",
    "url": "http://127.0.0.1:8000/api/borrowing-requests/OTA-B-2026-000042/",
    "type": "copy", "title": "Nature", "article_title": "Deep learning",
    "patron": "OTA-P0003", "source": "api", "created_at": "2026-12-03T10:15:00+02:00",
    "due_date": None,
    "history": [{"at": "2026-12-03T10:15:00+02:00", "action": "create", "status": "created"}],
}


@extend_schema_view(
    list=extend_schema(
        summary="The institution's borrowing requests, newest first",
        parameters=[OpenApiParameter("patron", OpenApiTypes.STR, description=(
            "Only this patron's requests (card number or other identifier)."))],
        responses={200: BorrowingRequestOutSerializer(many=True)}),
    retrieve=extend_schema(
        summary="One borrowing request by its number",
        responses={200: BorrowingRequestOutSerializer,
                   404: OpenApiResponse(description="No such request here.")},
        examples=[OpenApiExample("A request", value=EXAMPLE_OUT, response_only=True)]),
)
class BorrowingRequestViewSet(viewsets.GenericViewSet):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasScope]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    serializer_class = BorrowingRequestOutSerializer

    def get_queryset(self):
        return (BorrowingRequest.objects.filter(institution_id=self.request.user.institution_id)
                .select_related("patron").prefetch_related("history")
                .order_by("-created_at", "-pk"))

    def list(self, request):
        qs = self.get_queryset()
        card = request.query_params.get("patron")
        if card is not None:
            patron = patron_by_identifier(institution=request.user.institution, value=card)
            qs = qs.filter(patron=patron) if patron else qs.none()
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([request_out(request, r) for r in page])

    def retrieve(self, request, number=None):
        obj = self.get_queryset().filter(number=number).first()
        if obj is None:
            raise exceptions.NotFound(_("No such request."))
        return Response(request_out(request, obj))

    @extend_schema(
        summary="Ask for a book, an article copy or a chapter for a patron",
        description=(
            "Creates a borrowing request, *Created*, in the resource sharing staff's review "
            "queue (source: api). The intake checks (our own available copy, an open "
            "request of the patron for the same work, the patron blocked, expired or at the "
            "loan limit) refuse with 409 or create with `warnings`, as the institution's "
            "portal settings say. Send an `Idempotency-Key` header to make a retry safe."),
        request=IntakeSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR,
                                     OpenApiParameter.HEADER, description=(
                                         "Any unique string per request: a retried POST with "
                                         "the same key gets the first answer."))],
        responses={
            201: BorrowingRequestOutSerializer,
            400: OpenApiResponse(description="Field errors, e.g. {\"patron\": [\"No patron "
                                             "with that card number or identifier.\"]}"),
            409: inline_serializer("IntakeRefusal", {
                "detail": serializers.CharField(), "checks": CheckSerializer(many=True)}),
            422: OpenApiResponse(description="The Idempotency-Key was used for another body."),
        },
        examples=[
            OpenApiExample("An article copy", value=EXAMPLE_IN, request_only=True),
            OpenApiExample("A book, the citation pasted", request_only=True, value={
                "patron": "OTA-P0003", "type": "loan", "pickup_desk": "MAIN-DESK",
                "citation_text": "Linna, Väinö: Tuntematon sotilas. WSOY 2000. "
                                 "ISBN 951-0-24712-6"}),
            OpenApiExample("Created", value=EXAMPLE_OUT, response_only=True,
                           status_codes=["201"]),
            OpenApiExample("Refused: our own copy", response_only=True, status_codes=["409"],
                           value={"detail": "Our library has a copy on the shelf (Main "
                                            "Library, 891.2 LIN).",
                                  "checks": [{"code": "own_holdings", "refuses": True,
                                              "message": "Our library has a copy on the "
                                                         "shelf (Main Library, 891.2 LIN)."}]}),
        ],
    )
    def create(self, request):
        client = request.user.client
        key = (request.headers.get("Idempotency-Key") or "").strip()[:200]
        body_hash = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str)
                                   .encode()).hexdigest()
        if key:
            kept = IdempotencyRecord.objects.filter(client=client, key=key).first()
            if kept is not None:
                return self._replay(kept, body_hash)
        status, body = self._create(request)
        if key and status < 500:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(client=client, key=key,
                                                     body_hash=body_hash,
                                                     status_code=status, response=body)
            except IntegrityError:  # the same key raced us: the first answer wins
                return self._replay(IdempotencyRecord.objects.get(client=client, key=key),
                                    body_hash)
        return Response(body, status=status)

    def _replay(self, kept: IdempotencyRecord, body_hash: str) -> Response:
        if kept.body_hash != body_hash:
            return Response({"detail": _("This Idempotency-Key was used for another "
                                         "request.")}, status=422)
        return Response(kept.response, status=kept.status_code,
                        headers={"Idempotent-Replayed": "true"})

    def _create(self, request) -> tuple[int, dict]:
        serializer = IntakeSerializer(data=request.data,
                                      context={"institution": request.user.institution})
        if not serializer.is_valid():
            return 400, serializer.errors
        data = serializer.validated_data
        citation = {**data["citation"], "citation_text": data.get("citation_text", "")}
        try:
            obj, warnings = intake_request_create(
                patron=data["patron"], request_type=TYPES[data["type"]], citation=citation,
                source=Source.API, pickup_desk=data["pickup_desk"],
                office_delivery=data["office_delivery"], needed_before=data.get("needed_by"),
                note=data.get("note", ""), copyright_accepted=data["copyright_accepted"],
                go_ahead=True)
        except IntakeRefused as refused:
            return 409, {"detail": str(refused), "checks": [_check(c) for c in refused.checks]}
        except IntakeNeedsConfirmation as warned:  # not with go_ahead; kept for safety
            return 409, {"detail": str(warned), "checks": [_check(c) for c in warned.checks]}
        except DomainError as error:
            return 400, {"non_field_errors": [str(error)]}
        obj = self.get_queryset().get(pk=obj.pk)
        return 201, request_out(request, obj, warnings=warnings)

