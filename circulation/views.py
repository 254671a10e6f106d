"""Circulation desk pages: scan-in, check-out, check-in, hold shelf, self-service, slips.

Every view starts with the access helpers (404 for another institution's desk or item, 403
without the permission), changes state only on POST and leaves every rule to
`fulfillment.services`. After a POST the page redirects to itself showing the stored scan, so
a reload never repeats a scan and the feedback survives it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from circulation import services
from circulation.hooks import ill_bridge
from circulation.models import DeskScan, Hold, Loan, Transit
from circulation.tasks import items_to_pull
from fulfillment.models import CirculationDesk, Item
from kauko.access import get_scoped_or_404, next_url, require_perm, staff_institution

SCAN_PERM = "fulfillment.change_item"
SHELF_PERM = "circulation.view_hold"

# Patrons live in the `patrons` app, which this one never imports: reach the model through
# the string foreign key.
Patron = Hold._meta.get_field("patron").related_model


def _desk(request, desk_id: int, *perms: str) -> CirculationDesk:
    return get_scoped_or_404(request, CirculationDesk.objects.select_related("library"),
                             *(perms or (SCAN_PERM,)), pk=desk_id)


def _find_patron(institution, value: str):
    value = value.strip()
    if not value:
        return None
    return (Patron.objects.filter(institution=institution)
            .filter(Q(barcode__iexact=value) | Q(identifiers__value__iexact=value))
            .select_related("group").prefetch_related("blocks").distinct().first())


def _shown_scan(request, desk) -> DeskScan | None:
    scan_id = request.GET.get("scan", "")
    if not scan_id.isdigit():
        return None
    return (DeskScan.objects.filter(desk=desk, pk=int(scan_id))
            .select_related("item__bib").first())


def _override_hold(scan: DeskScan | None) -> Hold | None:
    """The hold "loan anyway" would fill, when the shown scan stopped at a patron problem."""
    if scan is None or scan.item_id is None or scan.level == DeskScan.Level.OK:
        return None
    if scan.outcome not in (services.Outcome.ON_HOLD_SHELF, services.Outcome.ALREADY_ON_SHELF,
                            services.Outcome.OFFICE_DELIVERY_HELD):
        return None
    return (Hold.objects.filter(item_id=scan.item_id, state=Hold.State.ON_HOLD_SHELF)
            .select_related("patron").first())


@login_required
@require_GET
def desk_list(request):
    institution = staff_institution(request)
    require_perm(request, SCAN_PERM)
    desks = (CirculationDesk.objects.for_institution(institution)
             .select_related("library").order_by("library__name", "name"))
    return render(request, "circulation/desk_list.html", {"desks": desks})


@login_required
@require_http_methods(["GET", "POST"])
def scan_in(request, desk_id: int):
    desk = _desk(request, desk_id)
    if request.method == "POST":
        item_id = request.POST.get("item_id", "")
        result = services.desk_scan_in(
            desk=desk, barcode=request.POST.get("barcode", ""), user=request.user,
            item_id=int(item_id) if item_id.isdigit() else None)
        return redirect(f"{reverse('desk:scan_in', args=[desk.pk])}?scan={result.scan.pk}")
    scan = _shown_scan(request, desk)
    candidates = []
    if scan is not None and scan.outcome == services.Outcome.AMBIGUOUS:
        candidates = services.resolve_scan(institution=desk.institution_id,
                                           barcode=scan.barcode)
    recent = services.recent_scans(desk=desk)
    return render(request, "circulation/scan_in.html", {
        "desk": desk, "scan": scan, "candidates": candidates, "recent": recent,
        "last_undoable": recent[0] if recent and recent[0].is_undoable else None,
        "override_hold": _override_hold(scan),
        "may_override": request.user.has_perm(services.OVERRIDE_PERMISSION),
    })


@login_required
@require_POST
def undo(request, desk_id: int):
    desk = _desk(request, desk_id)
    try:
        scan = services.undo_last_scan(desk=desk, user=request.user)
    except services.DeskError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Undone: %(barcode)s is back where it was.") % {
            "barcode": scan.barcode})
        if scan.outcome == services.Outcome.ON_HOLD_SHELF:
            messages.warning(request, _("The arrival notice already sent to the patron cannot "
                                        "be recalled."))
    return redirect("desk:scan_in", desk.pk)


@login_required
@require_POST
def override_loan(request, desk_id: int, hold_id: int):
    """Loan a held item to its blocked / expired / at-limit patron anyway (permission)."""
    desk = _desk(request, desk_id, SCAN_PERM, services.OVERRIDE_PERMISSION)
    hold = get_scoped_or_404(request, Hold.objects.select_related("patron", "item"),
                             SCAN_PERM, pk=hold_id)
    try:
        loan = services.loan_item(desk=desk, patron=hold.patron, item=hold.item,
                                  user=request.user, override=True)
    except services.DeskError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Loaned to %(patron)s (override), due %(date)s.") % {
            "patron": hold.patron.full_name, "date": services.date_label(loan.due_at)})
    return redirect("desk:scan_in", desk.pk)


@login_required
@require_http_methods(["GET", "POST"])
def check_out(request, desk_id: int):
    desk = _desk(request, desk_id)
    institution = desk.institution_id
    patron_value = request.POST.get("patron") or request.GET.get("patron", "")
    patron = _find_patron(institution, patron_value) if patron_value else None
    feedback = None
    if request.method == "POST" and patron is not None and request.POST.get("barcode"):
        items = services.resolve_scan(institution=institution,
                                      barcode=request.POST["barcode"])
        if len(items) != 1:
            feedback = {"level": "stop", "message": _(
                "Unknown barcode %(barcode)s.") % {"barcode": request.POST["barcode"]}
                if not items else _("This scan matches several items: scan one alone.")}
        else:
            try:
                loan = services.loan_item(
                    desk=desk, patron=patron, item=items[0], user=request.user,
                    override=request.POST.get("override") == "1")
            except services.PatronCannotBorrow as refused:
                feedback = {"level": "stop", "message": refused.message,
                            "details": [p.message for p in refused.problems]
                            + [services.what_staff_can_do(on_shelf=False)],
                            "override_barcode": request.POST["barcode"]}
            except services.DeskError as refused:
                feedback = {"level": "stop", "message": refused.message}
            else:
                if loan.item.patron_keeps:
                    messages.success(request, _("Handed over to keep (a copy): %(item)s.") % {
                        "item": loan.item.bib.title})
                else:
                    messages.success(request, _("Loaned: %(item)s, due %(date)s.") % {
                        "item": loan.item.bib.title,
                        "date": services.date_label(loan.due_at)})
                return redirect(f"{reverse('desk:check_out', args=[desk.pk])}"
                                f"?patron={patron.barcode}")
    problems, loans = [], []
    if patron is not None:
        problems = services.patron_problems(patron)
        loans = list(Loan.objects.filter(patron=patron, returned_at__isnull=True)
                     .select_related("item__bib").order_by("due_at"))
    elif patron_value:
        feedback = {"level": "stop", "message": _(
            "No patron with the card %(barcode)s.") % {"barcode": patron_value}}
    return render(request, "circulation/check_out.html", {
        "desk": desk, "patron": patron, "patron_value": patron_value, "problems": problems,
        "problem_lines": [p.message for p in problems]
        + ([services.what_staff_can_do(on_shelf=False)] if problems else []),
        "hidden_patron": [("patron", patron.barcode)] if patron else [],
        "loans": loans, "feedback": feedback,
        "may_override": request.user.has_perm(services.OVERRIDE_PERMISSION)})


@login_required
@require_http_methods(["GET", "POST"])
def check_in(request, desk_id: int):
    desk = _desk(request, desk_id)
    if request.method == "POST":
        items = services.resolve_scan(institution=desk.institution_id,
                                      barcode=request.POST.get("barcode", ""))
        if len(items) != 1:
            messages.error(request, _("Unknown barcode: %(barcode)s.") % {
                "barcode": request.POST.get("barcode", "")} if not items
                else _("This scan matches several items: scan one alone."))
            return redirect("desk:check_in", desk.pk)
        try:
            result = services.return_item(desk=desk, item=items[0], user=request.user)
        except services.DeskError as refused:
            messages.error(request, refused.message)
            return redirect("desk:check_in", desk.pk)
        return redirect(f"{reverse('desk:check_in', args=[desk.pk])}?scan={result.scan.pk}")
    return render(request, "circulation/check_in.html", {
        "desk": desk, "scan": _shown_scan(request, desk)})


@login_required
@require_GET
def hold_shelf(request, desk_id: int):
    desk = _desk(request, desk_id, SHELF_PERM)
    today = timezone.localdate()
    holds = list(Hold.objects.filter(shelf_desk=desk, state=Hold.State.ON_HOLD_SHELF)
                 .select_related("patron__group", "item__bib")
                 .prefetch_related("item__barcodes", "patron__blocks")
                 .order_by("pickup_deadline", "shelved_at"))
    incoming = list(Transit.objects.filter(to_desk=desk, ended_at__isnull=True)
                    .select_related("item__bib", "from_library", "hold__patron")
                    .prefetch_related("item__barcodes").order_by("started_at"))
    return render(request, "circulation/hold_shelf.html", {
        "desk": desk, "holds": holds, "today": today, "incoming": incoming,
        "to_pull": list(items_to_pull(desk=desk).select_related("bib")
                        .prefetch_related("barcodes"))})


@login_required
@require_GET
def slip(request, desk_id: int, scan_id: int):
    desk = _desk(request, desk_id)
    scan = get_object_or_404(DeskScan, desk=desk, pk=scan_id)
    return render(request, "circulation/slip.html", {"desk": desk, "scan": scan})


@login_required
@require_GET
def item_circulation(request, item_id: int):
    """Where an item is and why: status, location, hold, transit, loan, ILL request, scans."""
    item = get_scoped_or_404(
        request, Item.objects.select_related("bib", "location__library",
                                             "permanent_location__library")
        .prefetch_related("barcodes"), "fulfillment.view_item", pk=item_id)
    return render(request, "circulation/item_circulation.html", {
        "item": item,
        "ill": ill_bridge().describe_item(item=item) if item.is_temporary else None,
        "holds": item.holds.select_related("patron", "pickup_desk", "shelf_desk")
        .order_by("-created_at")[:10],
        "transits": item.transits.select_related("from_library", "to_library", "to_desk")
        .order_by("-started_at")[:10],
        "loans": item.loans.select_related("patron", "desk").order_by("-loaned_at")[:10],
        "scans": DeskScan.objects.filter(item=item).select_related("desk", "user")
        .order_by("-created_at")[:10],
    })


@login_required
@require_POST
def renew(request, loan_id: int):
    loan = get_scoped_or_404(request, Loan.objects.select_related("patron"), SCAN_PERM,
                             pk=loan_id)
    try:
        # "Asked by the patron" (Alma's mediated patron renewal) applies the renewal window.
        outcome = services.renew_loan(loan=loan, user=request.user,
                                      by_patron=request.POST.get("by_patron") == "1")
    except services.DeskError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, outcome.message or _("Renewal asked."))
    return redirect(next_url(request, "desk:desk_list"))


@login_required
@require_http_methods(["GET", "POST"])
def self_service(request, desk_id: int):
    """A minimal self-service station: the patron scans the card, then the item."""
    desk = _desk(request, desk_id)
    feedback = None
    if request.method == "POST":
        action = request.POST.get("action", "loan")
        patron = _find_patron(desk.institution_id, request.POST.get("patron", ""))
        items = services.resolve_scan(institution=desk.institution_id,
                                      barcode=request.POST.get("barcode", ""))
        try:
            if len(items) != 1:
                raise services.DeskError(_("The item was not recognised: please ask at the "
                                           "desk."))
            if action == "return":
                services.return_item(desk=desk, item=items[0], user=request.user,
                                     self_service=True)
                feedback = {"level": "ok", "message": _("Returned. Thank you!")}
            else:
                if patron is None:
                    raise services.DeskError(_("Library card not recognised: please ask at "
                                               "the desk."))
                loan = services.loan_item(desk=desk, patron=patron, item=items[0],
                                          user=request.user, self_service=True)
                feedback = {"level": "ok", "message": _(
                    "Borrowed: %(title)s. Due %(date)s.") % {
                    "title": loan.item.bib.title, "date": services.date_label(loan.due_at)}}
        except services.PatronCannotBorrow:
            feedback = {"level": "stop", "message": _(
                "You cannot borrow at the moment: please ask at the desk.")}
        except services.DeskError as refused:
            feedback = {"level": "stop", "message": refused.message}
    return render(request, "circulation/self_service.html",
                  {"desk": desk, "feedback": feedback})


@login_required
@require_GET
def long_ill_loans(request):
    """ILL loans running long, for the RS office to chase or stop renewing."""
    institution = staff_institution(request)
    require_perm(request, "circulation.view_loan")
    return render(request, "circulation/long_ill_loans.html", {
        "rows": services.long_running_ill_loans(institution=institution)})
