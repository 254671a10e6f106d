from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fulfillment.models import Item
from fulfillment.selectors import items_by_barcode
from kauko.access import get_scoped_or_404, require_perm, staff_institution

SEARCH_LIMIT = 50


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
