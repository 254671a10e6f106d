from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from circulation.services import render_slip
from fulfillment.selectors import item_by_barcode
from ill.actions import run_action
from ill.lending import services
from ill.lending.actions import BY_NAME, valid_actions
from ill.lending.filters import QUEUES, LendingRequestFilter
from ill.lending.forms import LendingRequestCreateForm, PickListFilter
from ill.lending.letters import letter_context
from ill.lending.selectors import (
    lending_detail,
    lending_list,
    open_request_for_item,
    pick_list,
    queue_counts,
    slip_requests,
)
from ill.models import LendingRequest
from ill.workflow import staff_label
from kauko.access import require_perm, staff_institution
from kauko.barcodes import code128_svg
from kauko.errors import DomainError
from kauko.formats import short_date, short_datetime
from kauko.letters import letters_about

LR = LendingRequest
PAGE_SIZES = (25, 50, 100, 200)
SCANNED_KEY = "lending_scanned_item"
PICK_LIST_MAX = 200  # one printing batch; the rest show up once these are printed
VIEW, ADD, CHANGE = "ill.view_lendingrequest", "ill.add_lendingrequest", \
    "ill.change_lendingrequest"


def _request_or_404(request, pk, *perms):
    institution = staff_institution(request)
    require_perm(request, *perms)
    obj = lending_detail(institution=institution, pk=pk)
    if obj is None:
        raise Http404
    return obj


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _next_url(request, fallback: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return reverse(fallback)


def _list_rows(rows):
    """Labels, links and dates each row shows, worked out once per page: the template's
    per-row get_FOO_display, {% url %} and date formatting were most of a 200-row page's
    time (Django translates and hashes every choice label on each display call)."""
    status = {k: str(v) for k, v in LR.Status.choices}
    service = {k: str(v) for k, v in LR.ServiceType.choices}
    detail = reverse("ill:lending_detail", args=[0])[:-2]  # ".../lending/" + pk + "/"
    for r in rows:
        r.status_label = status.get(r.status, r.status)
        r.service_label = service.get(r.service_type, r.service_type)
        r.url = f"{detail}{r.pk}/"
        r.to_pick = (r.item_id is not None and r.pull_slip_printed_at is None
                     and r.status in LR.PICK_LIST)
        r.due_text = short_date(r.due_date)
        r.created_text = short_date(r.created_at)
        r.assignee = staff_label(r.assigned_to)
    return rows


@login_required
@require_GET
def lending_list_view(request):
    institution = staff_institution(request)
    require_perm(request, VIEW)
    filterset = LendingRequestFilter(request.GET or None, institution=institution,
                                     user=request.user,
                                     queryset=lending_list(institution=institution))
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    if not request.GET.get("o"):
        rows = rows.order_by("-created_at", "-id")
    size = _int(request.GET.get("size"), 50)
    size = size if size in PAGE_SIZES else 50
    page = max(1, _int(request.GET.get("page"), 1))
    # No total count: on a million requests counting costs more than the page itself.
    window = list(rows[(page - 1) * size: page * size + 1])
    params = request.GET.copy()
    params.pop("page", None)
    counts = queue_counts(institution=institution)
    return render(request, "ill/lending/list.html", {
        "filter": filterset, "rows": _list_rows(window[:size]), "page": page, "size": size,
        "has_next": len(window) > size, "has_previous": page > 1,
        "querystring": params.urlencode(), "page_sizes": PAGE_SIZES,
        "queues": [(key, queue.label, counts[key]) for key, queue in QUEUES.items()],
        "current_queue": request.GET.get("queue", ""),
    })


@login_required
@require_http_methods(["GET", "POST"])
def lending_create(request):
    institution = staff_institution(request)
    require_perm(request, ADD)
    form = LendingRequestCreateForm(request.POST or None, institution=institution,
                                    initial={"service_type": LR.ServiceType.LOAN})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.lending_request_create(
                institution=institution, partner=data["partner"], user=request.user,
                partner_request_id=data["partner_request_id"],
                service_type=data["service_type"],
                citation={k: data[k] for k in LR.CITATION_FIELDS},
                **{k: data[k] for k in ("needed_before", "requested_delivery",
                                        "delivery_address", "max_cost", "partner_note",
                                        "internal_note")})
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Lending request %(number)s created: %(status)s.") % {
                "number": created.number, "status": created.get_status_display()})
            return redirect("ill:lending_detail", pk=created.pk)
    return render(request, "ill/lending/form.html", {"form": form})


@login_required
@require_GET
def lending_detail_view(request, pk: int):
    obj = _request_or_404(request, pk, VIEW)
    initial = {"version": obj.version}
    # Opened by scanning our item (the list's scan box): that scan stands for the barcode
    # a check-in or shipment asks for, so the item is not scanned twice.
    remembered = request.session.pop(SCANNED_KEY, None) or {}
    scanned = remembered.get("barcode", "") if remembered.get("pk") == obj.pk else ""
    if scanned and obj.item_id:
        item = item_by_barcode(institution=obj.institution, barcode=scanned)
        if item is not None and item.pk == obj.item_id:
            initial["barcode"] = scanned
    actions = [(action, action.form(initial=initial, request_obj=obj, prefix=action.name))
               for action in valid_actions(obj)
               if not (action.name == "take" and obj.assigned_to_id == request.user.pk)]
    actions.sort(key=lambda pair: pair[0].is_destructive)  # destructive ones last

    return render(request, "ill/lending/detail.html", {
        "r": obj, "actions": actions, "letters": letters_about(obj),
        "history": obj.history_rows(),
        "can_act": request.user.has_perm(CHANGE),
        "candidates": [(c, services.is_available(c.item)) for c in obj.candidates.all()],
    })


@login_required
@require_POST
def lending_action(request, pk: int, name: str):
    obj = _request_or_404(request, pk, CHANGE)
    action = BY_NAME.get(name)
    if action is None:
        raise Http404
    return run_action(request, obj, action, reverse("ill:lending_detail", args=[obj.pk]))


BULK = {
    "will_supply": lambda r, u: services.lending_request_will_supply(request=r, user=u),
    "ship": lambda r, u: services.lending_request_ship(request=r, barcode=None, user=u),
}


@login_required
@require_POST
def lending_bulk(request):
    """Bulk will supply, ship, or print pull slips: each request goes through its own
    service call, and each refusal is reported by number."""
    institution = staff_institution(request)
    require_perm(request, CHANGE)
    operation = request.POST.get("operation")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    chosen = list(LendingRequest.objects.filter(institution=institution, pk__in=ids)
                  .select_related("partner__lending_profile", "rs_library", "item__bib")
                  .order_by("pk"))
    if operation == "pull_slips" and chosen:
        return _print_pull_slips(request, chosen)
    if operation not in BULK or not chosen:
        messages.error(request, _("Choose requests and what to do with them."))
        return redirect(_next_url(request, "ill:lending_list"))
    done, refused = [], []
    for obj in chosen:
        try:
            BULK[operation](obj, request.user)
            done.append(obj.number)
        except DomainError as exc:
            refused.append(f"{obj.number}: {exc.message}")
    if done:
        messages.success(request, _("Done: %(numbers)s") % {"numbers": ", ".join(done)})
    for line in refused:
        messages.error(request, line)
    return redirect(_next_url(request, "ill:lending_list"))


# --- pick list and slips ---------------------------------------------------------------------


@login_required
@require_GET
def lending_pick_list(request):
    institution = staff_institution(request)
    require_perm(request, VIEW)
    form = PickListFilter(request.GET or None, institution=institution,
                          initial={"printed": "no"})
    data = form.cleaned_data if form.is_bound and form.is_valid() else {"printed": "no"}
    rows = list(pick_list(institution=institution, library=data.get("library"),
                          location=data.get("location"), printed=data.get("printed", "no"))
                [:PICK_LIST_MAX + 1])
    status = {k: str(v) for k, v in LR.Status.choices}
    detail = reverse("ill:lending_detail", args=[0])[:-2]
    for r in rows:  # worked out once per page, as for the list
        r.status_label = status.get(r.status, r.status)
        r.url = f"{detail}{r.pk}/"
        r.printed_text = short_datetime(r.pull_slip_printed_at, default="")
    return render(request, "ill/lending/pick_list.html", {
        "form": form, "rows": rows[:PICK_LIST_MAX], "more": len(rows) > PICK_LIST_MAX})


@login_required
@require_POST
def lending_pull_slips(request):
    institution = staff_institution(request)
    require_perm(request, CHANGE)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    chosen = list(LendingRequest.objects.filter(institution=institution, pk__in=ids)
                  .order_by("pk"))
    if not chosen:
        messages.error(request, _("Choose the requests whose pull slips to print."))
        return redirect("ill:lending_pick_list")
    return _print_pull_slips(request, chosen)


def _print_pull_slips(request, chosen):
    """Mark them printed (POST), then show the printable batch (GET, safe to reload)."""
    printed = services.lending_pull_slips_printed(requests=chosen, user=request.user)
    if not printed:
        messages.error(request, _("None of those requests is on the pick list."))
        return redirect("ill:lending_pick_list")
    ids = ",".join(str(r.pk) for r in printed)
    return redirect(f"{reverse('ill:lending_pull_slips_print')}?ids={ids}")


def _slip_html(r, code: str) -> str:
    return render_slip(code=code, institution=r.institution, context=letter_context(r),
                       language=r.institution.default_language)


@login_required
@require_GET
def lending_pull_slips_print(request):
    institution = staff_institution(request)
    require_perm(request, VIEW)
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isdigit()][:500]
    rows = list(slip_requests(institution=institution, ids=ids))
    for r in rows:
        r.institution = institution  # one object for every slip's rendering
    slips = [(r, code128_svg(r.number), _slip_html(r, "pull_slip")) for r in rows]
    return render(request, "ill/lending/slips.html", {
        "slips": slips, "title": _("Pull slips"),
        "back": reverse("ill:lending_pick_list")})


@login_required
@require_GET
def lending_shipping_slip(request, pk: int):
    obj = _request_or_404(request, pk, VIEW)
    return render(request, "ill/lending/slips.html", {
        "slips": [(obj, code128_svg(obj.number), _slip_html(obj, "shipping_slip"))],
        "title": _("Shipping slip"), "back": reverse("ill:lending_detail", args=[obj.pk])})


@login_required
@require_GET
def lending_scan(request):
    """A scanned slip (our request number) or one of our items' barcodes opens its
    lending request."""
    institution = staff_institution(request)
    require_perm(request, VIEW)
    value = request.GET.get("barcode", "").strip()
    found = LendingRequest.objects.filter(institution=institution,
                                          number__iexact=value).first() if value else None
    if found is not None:
        return redirect("ill:lending_detail", pk=found.pk)
    item = item_by_barcode(institution=institution, barcode=value) if value else None
    found = open_request_for_item(institution=institution, item=item) if item else None
    if found is None:
        messages.error(request, _("No lending request for “%(value)s”.") % {"value": value})
        return redirect("ill:lending_list")
    # The detail page takes this scan as the barcode its check-in or shipment asks for.
    request.session[SCANNED_KEY] = {"pk": found.pk, "barcode": value}
    return redirect("ill:lending_detail", pk=found.pk)


@require_GET
def lending_copy_download(request, token: str):
    """The partner's expiring link to a copy we uploaded (no login: the token is the key)."""
    obj = services.copy_fetched(token=token)
    if obj is None:
        return render(request, "ill/article_expired.html", status=404)
    return FileResponse(obj.digital_file.open("rb"), as_attachment=True,
                        filename=obj.digital_file.name.rsplit("/", 1)[-1])
