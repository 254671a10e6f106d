from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from circulation.hooks import ill_bridge
from circulation.letters import letter_context as slip_context
from circulation.services import render_slip
from fulfillment.models import Item
from ill.actions import run_action
from ill.borrowing import services
from ill.borrowing.actions import BY_NAME, valid_actions
from ill.borrowing.automation import expected_arrival
from ill.borrowing.checks import creation_checks, patron_standing, request_checks
from ill.borrowing.filters import QUEUES, BorrowingRequestFilter
from ill.borrowing.forms import BorrowingRequestCreateForm, EditForm
from ill.borrowing.selectors import (
    borrowing_detail,
    borrowing_list,
    purchase_requests,
    queue_counts,
    retry_offer,
)
from ill.models import BorrowingRequest, PurchaseRequest, Source
from ill.workflow import staff_label
from kauko.access import next_url, require_perm, staff_institution
from kauko.barcodes import code128_svg
from kauko.errors import DomainError
from kauko.formats import short_date
from kauko.letters import letters_about

PAGE_SIZES = (25, 50, 100, 200)


def _request_or_404(request, pk, *perms):
    institution = staff_institution(request)
    require_perm(request, *perms)
    obj = borrowing_detail(institution=institution, pk=pk)
    if obj is None:
        raise Http404
    return obj


def _list_rows(rows):
    """What each row shows, worked out once per page: per-row get_FOO_display (which
    translates every choice label on each call), {% url %} and date filters were most of a
    200-row page's time."""
    status = {k: str(v) for k, v in BorrowingRequest.Status.choices}
    kind = {k: str(v) for k, v in BorrowingRequest.Type.choices}
    # Where a request came from, said only when it is not staff's own (the review queue).
    came_from = {k: str(v) for k, v in Source.choices if k != Source.STAFF}
    detail = reverse("ill:borrowing_detail", args=[0])[:-2]  # ".../borrowing/" + pk + "/"
    for r in rows:
        r.status_label = status.get(r.status, r.status)
        r.type_label = kind.get(r.request_type, r.request_type)
        r.source_label = came_from.get(r.source, "")
        r.url = f"{detail}{r.pk}/"
        r.due_text = short_date(r.patron_due_date)
        r.created_text = short_date(r.created_at)
        r.assignee = staff_label(r.assigned_to)
    return rows


@login_required
@require_GET
def borrowing_list_view(request):
    institution = staff_institution(request)
    require_perm(request, "ill.view_borrowingrequest")
    filterset = BorrowingRequestFilter(request.GET or None, institution=institution,
                                       user=request.user,
                                       queryset=borrowing_list(institution=institution))
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    if not request.GET.get("o"):
        rows = rows.order_by("-created_at", "-id")
    try:
        size = int(request.GET.get("size", 50))
    except ValueError:
        size = 50
    size = size if size in PAGE_SIZES else 50
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    # No total count: on a million requests counting costs more than the page itself.
    window = list(rows[(page - 1) * size: page * size + 1])
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "ill/borrowing/list.html", {
        "filter": filterset, "rows": _list_rows(window[:size]), "page": page, "size": size,
        "has_next": len(window) > size, "has_previous": page > 1,
        "querystring": params.urlencode(), "queues": [
            (key, queue.label, count) for (key, queue), count in zip(
                QUEUES.items(), queue_counts(institution=institution).values(), strict=True)],
        "current_queue": request.GET.get("queue", ""), "page_sizes": PAGE_SIZES,
    })


@login_required
@require_http_methods(["GET", "POST"])
def borrowing_create(request):
    institution = staff_institution(request)
    require_perm(request, "ill.add_borrowingrequest")
    form = BorrowingRequestCreateForm(request.POST or None, institution=institution,
                                      initial={"request_type": "loan"})
    checks = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        citation = {k: data[k] for k in BorrowingRequest.CITATION_FIELDS}
        own_item = request.POST.get("hold_instead", "")
        if own_item.isdigit():
            return _hold_instead(request, institution, form, int(own_item))
        checks = creation_checks(institution=institution, patron=form.patron,
                                 citation=citation)
        if checks.any and request.POST.get("checked") != "1":
            # Staff read what the checks found before the request exists.
            return render(request, "ill/borrowing/form.html", {"form": form,
                                                                "checks": checks})
        try:
            created = services.borrowing_request_create(
                institution=institution, patron=form.patron, user=request.user,
                request_type=data["request_type"],
                citation={k: data[k] for k in BorrowingRequest.CITATION_FIELDS},
                pickup_desk=data["pickup_desk"], office_delivery=data["office_delivery"],
                needed_before=data["needed_before"], max_cost=data["max_cost"],
                patron_fee=data["patron_fee"], note_to_partner=data["note_to_partner"],
                internal_note=data["internal_note"], partners=form.ordered_partners())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Request %(number)s created.") % {
                "number": created.number})
            return redirect("ill:borrowing_detail", pk=created.pk)
    return render(request, "ill/borrowing/form.html", {"form": form, "checks": checks})


def _hold_instead(request, institution, form, item_id: int):
    """The form's "place a hold on ours instead": no request, a hold on our copy."""
    item = Item.objects.filter(institution=institution, pk=item_id,
                               is_temporary=False).first()
    if item is None:
        raise Http404
    data = form.cleaned_data
    try:
        services.borrowing_hold_own_item(
            institution=institution, patron=form.patron, item=item, user=request.user,
            pickup_desk=data["pickup_desk"], office_delivery=data["office_delivery"])
    except DomainError as exc:
        form.add_error(None, exc.message)
        return render(request, "ill/borrowing/form.html", {"form": form, "checks": None})
    messages.success(request, _("No request: a hold on our copy of “%(title)s” was placed "
                                "for %(patron)s.") % {"title": item.bib.title,
                                                      "patron": form.patron.full_name})
    return redirect("ill:borrowing_list")


@login_required
@require_GET
def borrowing_detail_view(request, pk: int):
    obj = _request_or_404(request, pk, "ill.view_borrowingrequest")
    actions = []
    for action in valid_actions(obj):
        if action.name == "take" and obj.assigned_to_id == request.user.pk:
            continue
        form = action.form(initial={"version": obj.version}, request_obj=obj,
                           prefix=action.name)
        actions.append((action, form))

    actions.sort(key=lambda pair: pair[0].is_destructive)  # destructive ones last
    return render(request, "ill/borrowing/detail.html", {
        "r": obj, "actions": actions, "history": obj.history_rows(),
        "edit_form": EditForm(instance=obj, initial={"version": obj.version})
        if not obj.is_final else None,
        "letters": letters_about(obj),
        "can_act": request.user.has_perm("ill.change_borrowingrequest"),
        "checks": request_checks(obj) if obj.status in BorrowingRequest.UNANSWERED else None,
        "patron_problems": patron_standing(obj.patron) if not obj.is_final else [],
        "retry_offer": _offer_parts(obj),
        "expected_arrival": expected_arrival(obj),
    })


def _offer_parts(obj) -> list[tuple[str, str]]:
    """What a standing RetryPossible offers, as (label, value) lines."""
    if obj.status not in BorrowingRequest.AT_PARTNER or not (obj.partner_id
                                                               and obj.partner.is_iso):
        return []
    offer = retry_offer(obj)
    return offer.parts() if offer is not None else []




@login_required
@require_POST
def borrowing_action(request, pk: int, name: str):
    obj = _request_or_404(request, pk, "ill.change_borrowingrequest")
    action = BY_NAME.get(name)
    if action is None:
        raise Http404
    return run_action(request, obj, action, reverse("ill:borrowing_detail", args=[obj.pk]))


@login_required
@require_POST
def borrowing_edit(request, pk: int):
    obj = _request_or_404(request, pk, "ill.change_borrowingrequest")
    form = EditForm(request.POST, instance=BorrowingRequest.objects.get(pk=obj.pk))
    if not form.is_valid():
        messages.error(request, _("Check the details: %(errors)s") % {
            "errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())})
    else:
        data = form.cleaned_data
        try:
            services.borrowing_request_edit(
                request=obj, user=request.user, version=data["version"],
                citation={k: data[k] for k in BorrowingRequest.CITATION_FIELDS},
                **{k: data[k] for k in ("needed_before", "max_cost", "patron_fee",
                                        "note_to_partner", "internal_note")})
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
    return redirect("ill:borrowing_detail", pk=obj.pk)


@login_required
@require_POST
def borrowing_bulk(request):
    """Bulk send or cancel: each request goes through its own service call, and each
    refusal is reported by number."""
    institution = staff_institution(request)
    require_perm(request, "ill.change_borrowingrequest")
    operation = request.POST.get("operation")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    chosen = list(BorrowingRequest.objects.filter(institution=institution, pk__in=ids)
                  .select_related("partner"))
    if operation not in ("send", "cancel") or not chosen:
        messages.error(request, _("Choose requests and what to do with them."))
        return redirect(next_url(request, "ill:borrowing_list"))
    done, refused = [], []
    for obj in chosen:
        try:
            if operation == "send":
                services.borrowing_request_send(request=obj, user=request.user)
            else:
                services.borrowing_request_cancel(
                    request=obj, user=request.user,
                    reason=request.POST.get("reason") or _("Cancelled by staff"))
            done.append(obj.number)
        except DomainError as exc:
            refused.append(f"{obj.number}: {exc.message}")
    if done:
        messages.success(request, _("Done: %(numbers)s") % {"numbers": ", ".join(done)})
    for line in refused:
        messages.error(request, line)
    return redirect(next_url(request, "ill:borrowing_list"))


@require_GET
def article_download(request, token: str):
    """The patron's expiring link to a delivered article (no login: the token is the key)."""
    obj = services.article_opened(token=token)
    if obj is None:
        return render(request, "ill/article_expired.html", status=404)
    if obj.digital_file:
        return FileResponse(obj.digital_file.open("rb"), as_attachment=True,
                            filename=obj.digital_file.name.rsplit("/", 1)[-1])
    if obj.digital_url:
        return HttpResponseRedirect(obj.digital_url)
    raise PermissionDenied



PURCHASE_PAGE = 200


def _purchase_rows(rows) -> list[dict]:
    """What the purchase list and its CSV show: plain values, dates in the user's format."""
    status = {k: str(v) for k, v in PurchaseRequest.Status.choices}
    detail = reverse("ill:borrowing_detail", args=[0])[:-2]
    return [{
        "created": short_date(p.created_at),
        "status": status.get(p.status, p.status), "title": p.title, "author": p.author,
        "publisher": p.publisher, "year": p.year, "edition": p.edition, "isbn": p.isbn,
        "issn": p.issn, "patron": p.patron.full_name, "patron_card": p.patron.barcode,
        "request": p.borrowing_request.number if p.borrowing_request else "",
        "request_url": f"{detail}{p.borrowing_request_id}/" if p.borrowing_request_id else "",
        "by": staff_label(p.created_by), "note": p.note,
    } for p in rows]


PURCHASE_COLUMNS = (
    ("created", _lazy("Created")), ("status", _lazy("Status")), ("title", _lazy("Title")),
    ("author", _lazy("Author")), ("publisher", _lazy("Publisher")), ("year", _lazy("Year")),
    ("edition", _lazy("Edition")), ("isbn", "ISBN"), ("issn", "ISSN"),
    ("patron", _lazy("Patron")), ("patron_card", _lazy("Patron card")),
    ("request", _lazy("Borrowing request")), ("by", _lazy("Turned over by")),
    ("note", _lazy("Note")))


@login_required
@require_GET
def purchase_list(request):
    """Purchase requests for acquisitions staff: newest first, by status, and as CSV."""
    institution = staff_institution(request)
    require_perm(request, "ill.view_purchaserequest")
    status = request.GET.get("status", "")
    if status not in PurchaseRequest.Status.values:
        status = ""
    rows = purchase_requests(institution=institution, status=status)
    if request.GET.get("export") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="purchase-requests.csv"'
        response.write("\ufeff")  # so spreadsheet programs read UTF-8
        writer = csv.writer(response)
        writer.writerow([str(label) for _key, label in PURCHASE_COLUMNS])
        for row in _purchase_rows(rows.iterator(chunk_size=500)):
            writer.writerow([row[key] for key, _label in PURCHASE_COLUMNS])
        return response
    window = list(rows[:PURCHASE_PAGE + 1])
    return render(request, "ill/borrowing/purchases.html", {
        "rows": _purchase_rows(window[:PURCHASE_PAGE]), "more": len(window) > PURCHASE_PAGE,
        "status": status, "statuses": PurchaseRequest.Status.choices,
    })


@login_required
@require_GET
def borrowing_hold_slip(request, pk: int):
    """The hold slip (the routing slip to the pickup desk or office) of a received item,
    offered on the request page at receive."""
    obj = _request_or_404(request, pk, "ill.view_borrowingrequest")
    item, hold = obj.temporary_item, obj.hold
    if item is None or hold is None:
        raise Http404
    desk = hold.pickup_desk
    info = ill_bridge().describe_item(item=item)
    html = render_slip(code="hold_slip", institution=obj.institution, context=slip_context(
        item=item, patron=obj.patron, desk=desk, hold=hold, info=info,
        office_delivery_address=obj.delivery_address if obj.office_delivery else ""))
    barcode = item.primary_barcode or obj.number
    return render(request, "ill/lending/slips.html", {
        "slips": [(obj, code128_svg(barcode), html)], "title": _("Hold slip"),
        "back": reverse("ill:borrowing_detail", args=[obj.pk])})
