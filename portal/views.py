"""The patron portal's pages (/my/). Each starts with who the patron is (`patron_required`),
parses input and calls one service; state changes only on POST."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import access
from portal.forms import SignInForm, SignInLinkForm
from portal.services import (
    SignInError,
    patron_sign_in,
    sign_in_link_send,
    sign_in_link_use,
)


def page(request, template: str, context: dict | None = None, *, status: int = 200):
    """Renders a portal page; the header shows the patron's links when one is signed in."""
    context = {**(context or {}),
               "patron_signed_in": access.current_patron(request) is not None}
    return render(request, template, context, status=status)


def sign_in(request):
    next_url = access.safe_next(request, request.GET.get("next") or request.POST.get("next"),
                                reverse("portal:home"))
    if access.current_patron(request) is not None:
        return redirect(next_url)
    form = SignInForm(request.POST or None)
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
    return page(request, "portal/sign_in.html", {"form": form, "next": next_url},
                status=400 if form.errors else 200)


def sign_in_link(request):
    form = SignInLinkForm(request.POST or None)
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
    return page(request, "portal/home.html", {"patron_name": patron.full_name})


@access.patron_required
def request_form(request, *, patron):
    return page(request, "portal/home.html", {"patron_name": patron.full_name})
