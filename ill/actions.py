"""What staff actions on both sides share: the Action entry of each side's table, and the
runner that validates an action's form, checks it is still valid, runs its service and says
how it went. `ill.borrowing.actions` and `ill.lending.actions` hold the tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from kauko.errors import DomainError


@dataclass(frozen=True)
class Action:
    """A staff action (borrowing and lending alike)."""

    name: str
    label: str
    form: type
    run: Callable
    transition: str | None = None  # valid when this transition can proceed
    states: tuple = ()             # or valid in these states
    when: Callable | None = None   # and, if given, when this says so
    style: str = ""
    open: bool = False             # show its fields at once (no extra click)
    # Asked before an action that cannot be undone (e.g. telling a partner its item is
    # lost); actions staff can take back are never confirmed.
    confirm: str = ""

    @property
    def is_destructive(self) -> bool:
        return self.style == "danger"

    def is_valid(self, request) -> bool:
        if self.transition is not None:
            ok = can_proceed(getattr(request, self.transition))
        else:
            ok = request.status in self.states
        return ok and (self.when is None or self.when(request))


def iso_partner(request) -> bool:
    return request.partner is not None and request.partner.is_iso


def version_of(form):
    return form.cleaned_data["version"]


def run_action(request, obj, action, detail_url: str):
    """Validate an action's form, check it is still valid, run it, and say how it went.

    Borrowing and lending actions share this: the form, the state check and the service
    differ per action, the handling around them does not."""
    form = action.form(request.POST, request.FILES, request_obj=obj, prefix=action.name)
    if not form.is_valid():
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        messages.error(request, _("%(action)s: %(errors)s") % {"action": action.label,
                                                                "errors": errors})
    elif not action.is_valid(obj):
        messages.error(request, _("“%(action)s” is not possible now: the request is "
                                  "“%(status)s”.") % {"action": action.label,
                                                      "status": obj.get_status_display()})
    else:
        try:
            action.run(obj, form, request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(action)s: done.") % {"action": action.label})
    return HttpResponseRedirect(detail_url)
