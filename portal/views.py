"""The patron portal's pages (/my/). Each starts with who the patron is (`patron_required`),
parses input and calls one service; state changes only on POST."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fulfillment.selectors import rs_library_for
from ill.models import Source
from kauko.errors import DomainError
from portal import access
from portal.forms import CITATION_FIELDS, RequestForm, SignInForm, SignInLinkForm
from portal.intake import (
    IntakeNeedsConfirmation,
    IntakeRefused,
    checks_for,
    copyright_declaration,
    intake_request_create,
)
from portal.oidc import PatronOIDCStart, oidc_enabled, patron_from_callback
from portal.openurl import parse_openurl
from portal.presenters import request_card
from portal.selectors import patron_request, patron_requests, portal_institutions
from portal.services import (
    SignInError,
    patron_hold_own_copy,
    patron_request_cancel,
    patron_request_renew,
    patron_sign_in,
    sign_in_link_send,
    sign_in_link_use,
)

logger = logging.getLogger(__name__)


def page(request, template: str, context: dict | None = None, *, status: int = 200):
    """Renders a portal page; the header shows the patron's links when one is signed in."""
    context = {**(context or {}),
               "patron_signed_in": access.current_patron(request) is not None}
    return render(request, template, context, status=status)


LIBRARY_KEY = "portal_library"


def _chosen_library(request) -> dict:
    """The library a patron most likely belongs to: named in the link they came by
    (`?library=OTA`, as each library's discovery system links to the portal) or chosen
    before in this browser. Only preselects: the patron can still pick another."""
    code = (request.GET.get("library") or request.session.get(LIBRARY_KEY) or "")[:50]
    library = portal_institutions().filter(code__iexact=code).first() if code else None
    return {"institution": library} if library else {}


def sign_in(request):
    next_url = access.safe_next(request, request.GET.get("next") or request.POST.get("next"),
                                reverse("portal:home"))
    if access.current_patron(request) is not None:
        return redirect(next_url)
    form = SignInForm(request.POST or None, initial=_chosen_library(request))
    if request.method == "POST" and form.is_valid():
        try:
            patron = patron_sign_in(institution=form.cleaned_data["institution"],
                                    card=form.cleaned_data["card"],
                                    pin=form.cleaned_data["pin"])
        except SignInError as error:
            form.add_error(None, str(error))
        else:
            access.sign_in(request, patron)
            return redirect(next_url)
    return page(request, "portal/sign_in.html", {"form": form, "next": next_url,
                                                 "oidc": oidc_enabled()},
                status=400 if form.errors else 200)


def oidc_start(request):
    if not oidc_enabled():
        raise Http404
    return PatronOIDCStart.as_view()(request)


def oidc_callback(request):
    if not oidc_enabled():
        raise Http404
    patron = patron_from_callback(request)
    if patron is None:
        messages.error(request, _("Signing in with your campus account did not work, or the "
                                  "account is not linked to a library card here. Sign in "
                                  "with your card and PIN, or ask the library."))
        return redirect("portal:sign_in")
    next_url = access.safe_next(request, request.session.pop("oidc_login_next", None),
                                reverse("portal:home"))
    access.sign_in(request, patron)
    return redirect(next_url)


def sign_in_link(request):
    form = SignInLinkForm(request.POST or None, initial=_chosen_library(request))
    if request.method == "POST" and form.is_valid():
        sign_in_link_send(institution=form.cleaned_data["institution"],
                          card=form.cleaned_data["card"])
        return page(request, "portal/sign_in_link_sent.html")
    return page(request, "portal/sign_in_link.html", {"form": form})


def sign_in_link_use_view(request, token):
    """GET asks (mail scanners open links, and must not spend them); POST signs in."""
    if request.method == "POST":
        try:
            patron = sign_in_link_use(token=token)
        except SignInError as error:
            return page(request, "portal/sign_in_link_use.html", {"error": str(error)},
                        status=410)
        access.sign_in(request, patron)
        return redirect("portal:home")
    return page(request, "portal/sign_in_link_use.html", {})


@require_POST
def sign_out(request):
    access.sign_out(request)
    messages.info(request, _("You have signed out."))
    return redirect("portal:sign_in")


@access.patron_required
def home(request, *, patron):
    cards = [request_card(r) for r in patron_requests(patron=patron)]
    return page(request, "portal/home.html", {
        "patron_name": patron.full_name,
        "current": [c for c in cards if c["open"]],
        "past": [c for c in cards if not c["open"]]})


def _patron_action(request, pk, patron, service, done: str):
    obj = patron_request(patron=patron, pk=pk)
    if obj is None:
        raise Http404
    try:
        service(patron=patron, request=obj)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done % {"number": obj.number})
    return redirect("portal:home")


@require_POST
@access.patron_required
def cancel(request, pk, *, patron):
    return _patron_action(request, pk, patron, patron_request_cancel,
                          _("Request %(number)s is cancelled."))


@require_POST
@access.patron_required
def renew(request, pk, *, patron):
    return _patron_action(request, pk, patron, patron_request_renew, _(
        "Renewal of %(number)s asked from the lending library: you will see its answer "
        "here and by e-mail."))


def _office_allowed(patron) -> bool:
    return patron.group.may_use_office_delivery and rs_library_for(
        institution=patron.institution).may_ship_to_office


def _checks_context(checks) -> list[dict]:
    return [{"message": c.message, "refuses": c.refuses, "code": c.code,
             "item_id": c.item_id} for c in checks]


@access.patron_required
def request_form(request, *, patron):
    """GET shows the form (prefilled from the query, e.g. by /openurl, with the checks for
    what it names); POST checks and makes the request."""
    declaration_for = copyright_declaration(patron.institution, "article")
    kwargs = {"patron": patron, "office_allowed": _office_allowed(patron),
              "declaration": declaration_for}
    checks, confirm = [], False
    if request.method == "POST":
        form = RequestForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created, warnings = intake_request_create(
                    patron=patron, request_type=data["request_type"],
                    citation=form.citation(), source=Source.PATRON,
                    pickup_desk=data.get("pickup_desk"),
                    office_delivery=data["delivery"] == "office",
                    needed_before=data.get("needed_before"), note=data.get("note", ""),
                    copyright_accepted=bool(data.get("copyright_accepted")),
                    go_ahead=bool(request.POST.get("go_ahead")))
            except (IntakeRefused, IntakeNeedsConfirmation) as stop:
                checks = stop.checks
                confirm = isinstance(stop, IntakeNeedsConfirmation)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _(
                    "Thank you: your request %(number)s is with the library. You can follow "
                    "it here.") % {"number": created.number})
                return redirect("portal:home")
    else:
        initial = {name: request.GET[name][:500] for name in (*CITATION_FIELDS,
                                                              "citation_text", "request_type")
                   if request.GET.get(name)}
        if initial.get("request_type") not in ("loan", "article", "chapter"):
            initial.pop("request_type", None)
        form = RequestForm(initial=initial, **kwargs)
        if initial.get("title") or initial.get("isbn") or initial.get("issn"):
            checks = checks_for(patron=patron,
                                request_type=initial.get("request_type", "loan"),
                                citation=initial)
    return page(request, "portal/request_form.html", {
        "form": form, "citation_fields": [form[name] for name in CITATION_FIELDS],
        "checks": _checks_context(checks), "confirm": confirm,
        "refused": any(c.refuses for c in checks) and request.method == "POST",
        "office_address": patron.office_address if _office_allowed(patron) else ""},
        status=400 if request.method == "POST" and (form.errors or checks) else 200)


def openurl(request):
    """/openurl from a discovery system: the request form, prefilled (after sign-in)."""
    try:
        fields = parse_openurl(request.GET)
    except Exception:  # a discovery system's odd link must never be an error page
        logger.warning("OpenURL not understood: %s", request.GET.urlencode()[:1000],
                       exc_info=True)
        fields = {}
    library = request.GET.get("library", "")[:50]
    if library:  # each library's discovery system names it in its OpenURL base
        request.session[LIBRARY_KEY] = library
    return redirect(reverse("portal:request") + ("?" + urlencode(fields) if fields else ""))


@require_POST
@access.patron_required
def hold_own_copy(request, item_id, *, patron):
    try:
        patron_hold_own_copy(patron=patron, item_id=item_id)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("portal:request")
    messages.success(request, _("Done: our copy is on hold for you. We tell you when it "
                                "waits at the desk."))
    return redirect("portal:home")
