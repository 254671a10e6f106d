from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fulfillment import sru as sru_protocol
from fulfillment.models import Item
from fulfillment.selectors import items_by_barcode
from kauko.access import get_scoped_or_404, require_perm, staff_institution
from kauko.models import Institution

SEARCH_LIMIT = 50
SRU_CONTENT_TYPE = "text/xml; charset=utf-8"


@login_required
@require_GET
def item_search(request):
    institution = staff_institution(request)
    require_perm(request, "fulfillment.view_item")
    query = request.GET.get("q", "").strip()
    items: list[Item] = []
    if query:
        items = list(items_by_barcode(institution=institution, barcode=query))
        if not items:
            items = list(
                Item.objects.for_institution(institution)
                .filter(Q(bib__title__icontains=query) | Q(bib__author__icontains=query)
                        | Q(bib__isbn=query))
                .select_related("bib", "location__library")
                .prefetch_related("barcodes")
                .order_by("bib__title")[:SEARCH_LIMIT]
            )
    return render(request, "fulfillment/item_search.html", {"query": query, "items": items})


@login_required
@require_GET
def item_detail(request, pk: int):
    item = get_scoped_or_404(
        request,
        Item.objects.select_related(
            "bib", "holding", "location__library", "permanent_location__library"
        ).prefetch_related("barcodes"),
        "fulfillment.view_item",
        pk=pk,
    )
    return render(request, "fulfillment/item_detail.html", {"item": item})


@require_GET
def sru(request, code: str = ""):
    """Kauko's catalogue over SRU: `/sru/<institution code>` (or `/sru?x-institution=`).

    Open to anyone, as a library catalogue is: records, holdings and availability, never
    patron data. An unknown institution is a 404 carrying an SRU diagnostic."""
    code = code or request.GET.get("x-institution", "")
    institution = Institution.objects.filter(code__iexact=code.strip()).first() if code else None
    if institution is None:
        body = sru_protocol.not_found(version=sru_protocol.version_of(request.GET), code=code)
        return HttpResponse(body, status=404, content_type=SRU_CONTENT_TYPE)
    body = sru_protocol.respond(institution=institution, params=request.GET,
                                base_url=request.build_absolute_uri(request.path))
    return HttpResponse(body, content_type=SRU_CONTENT_TYPE)
