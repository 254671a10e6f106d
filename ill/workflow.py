"""The one way a request's status changes.

`change_state` locks the request row, checks the move against the state machine and the
user's permission, applies the caller's changes, bumps the version and writes the history,
all in one transaction. Work that talks to the outside world (letters, messages to
partners) is registered with `after_commit` and runs only once the change is safely stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from ill.models import HistoryEntry, Source
from kauko.db import insert
from kauko.errors import DomainError
from kauko.i18n import gettext as _  # history notes read in each reader's language
from kauko.i18n import i18n_spec
from kauko.models import StaffUser


class WorkflowError(DomainError):
    """A request refused to move, with a message fit to show staff as it is.

    A `DomainError` like the desk's refusals, so a request that refuses to move while the
    desk scans its item stops the scan with this message instead of an error page."""


def after_commit(func: Callable[[], Any]) -> None:
    transaction.on_commit(func)


def _label(request, status: str) -> str:
    return str(dict(type(request).Status.choices).get(status, status))


def record(*, request, action: str, user=None, note: str = "", source: str = Source.STAFF,
           from_status: str = "", to_status: str = "") -> HistoryEntry:
    """A history row for an action that does not change the status (a note, a letter…).

    Borrowing and lending requests share the history table; the request's model says
    which link to fill (its `history_link`)."""
    return insert(HistoryEntry(
        **{type(request).history_link: request}, action=action,
        user=user if user and user.pk else None,
        note=note, note_i18n=i18n_spec(note), source=source, from_status=from_status,
        to_status=to_status,
    ))


def change_state(
    *,
    request,
    transition: str,
    user=None,
    version: int | None = None,
    note: str = "",
    source: str = Source.STAFF,
    apply: Callable[[Any], None] | None = None,
    action: str | None = None,
):
    """Move `request` along `transition`; returns the fresh, saved request.

    `version` is the version the staff member saw; if someone changed the request since,
    the move is refused instead of silently overwriting their work.
    """
    model = type(request)
    with transaction.atomic():
        # The row lock serialises two staff members (or a staff member and an incoming
        # partner message) acting on the same request at once: the second waits, then sees
        # the first one's status and is checked against it.
        locked = model.objects.select_for_update().get(pk=request.pk)
        if version is not None and locked.version != version:
            raise WorkflowError(_(
                "Someone else changed request %(number)s while you were looking at it (it is "
                "now “%(status)s”). Nothing was done: look at it again and retry."
            ) % {"number": locked.number, "status": locked.get_status_display()})
        method = getattr(locked, transition)
        if not can_proceed(method):
            raise WorkflowError(_(
                "Request %(number)s is “%(status)s”: “%(action)s” is not possible now."
            ) % {"number": locked.number, "status": locked.get_status_display(),
                 "action": model.action_label(transition)})
        if user is not None and not has_transition_perm(method, user):
            raise WorkflowError(_("You may not do “%(action)s”.")
                                % {"action": model.action_label(transition)})
        from_status = locked.status
        method()
        # For `apply`, which sees the request after the move but may care where it came from.
        locked.previous_status = from_status
        if apply is not None:
            apply(locked)
        cleared = ""
        if locked.status in model.FINAL and locked.needs_attention:
            # A closed request has nothing left to attend to: its flag goes with it, and the
            # history keeps what it said.
            cleared, locked.needs_attention, locked.attention_reason = (
                locked.attention_reason, False, "")
        locked.version += 1
        locked.status_changed_at = timezone.now()
        locked.save()
        record(request=locked, action=action or transition, user=user, note=note,
               source=source, from_status=from_status, to_status=locked.status)
        if cleared:
            record(request=locked, action="attention_cleared", user=user, source=source,
                   from_status=locked.status, to_status=locked.status,
                   note=_("Closed, so no longer needs attention (%(reason)s).")
                   % {"reason": cleared})
    return locked


def dismiss_attention(*, request, reason: str, user, version: int | None = None):
    """Staff dealt with what the flag said some other way: it goes, and why is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Say why the flag can go."))
    if not request.needs_attention:
        raise WorkflowError(_("Request %(number)s is not flagged.") % {"number": request.number})
    was = request.attention_reason

    def apply(r):
        r.needs_attention = False
        r.attention_reason = ""

    return update_fields(request=request, user=user, version=version,
                         action="attention_dismissed", apply=apply,
                         note=_("Flag dismissed (%(was)s): %(reason)s") % {
                             "was": was or "–", "reason": reason})


def staff_label(user) -> str:
    """How a colleague is named in lists and history: full name, else user name."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def assignees(*, institution_id: int, model):
    """The colleagues a request of `model` can be given to: active staff of the same
    institution who may work such requests."""
    codename = f"change_{model._meta.model_name}"
    return (StaffUser.objects.filter(institution_id=institution_id, is_active=True)
            .filter(Q(groups__permissions__codename=codename,
                      groups__permissions__content_type__app_label="ill")
                    | Q(user_permissions__codename=codename))
            .distinct().order_by("first_name", "last_name", "username"))


def assign(*, request, assignee, user, version: int | None = None):
    """Give the request to a colleague of its institution (`assignee` None: to nobody).
    Staff take a request by assigning it to themselves."""
    if assignee is not None and not assignees(
            institution_id=request.institution_id, model=type(request)).filter(
            pk=assignee.pk).exists():
        raise WorkflowError(_("%(who)s cannot work on this institution's requests.") % {
            "who": staff_label(assignee)})

    def apply(r):
        r.assigned_to = assignee

    if assignee is None:
        note = _("No longer assigned.")
    elif user is not None and assignee.pk == user.pk:
        note = _("Taken by %(who)s.") % {"who": staff_label(assignee)}
    else:
        note = _("Given to %(who)s.") % {"who": staff_label(assignee)}
    return update_fields(request=request, user=user, version=version, action="assign",
                         apply=apply, note=note)


def update_fields(*, request, user=None, version: int | None = None, action: str,
                  note: str = "", apply: Callable[[Any], None],
                  source: str = Source.STAFF):
    """A change that keeps the status (edit citation, set due date…), same guarantees."""
    model = type(request)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=request.pk)  # same race as above
        if version is not None and locked.version != version:
            raise WorkflowError(_(
                "Someone else changed request %(number)s while you were looking at it. "
                "Nothing was done: look at it again and retry.") % {"number": locked.number})
        apply(locked)
        locked.version += 1
        locked.save()
        record(request=locked, action=action, user=user, note=note, source=source,
               from_status=locked.status, to_status=locked.status)
    return locked


def flag(*, request, reason: str) -> None:
    """Raise the request's "needs attention" flag with the reason staff read.

    One UPDATE, no row lock: the flag only ever adds information, and the version is bumped
    so a colleague's open form notices the request changed."""
    type(request).objects.filter(pk=request.pk).update(
        needs_attention=True, attention_reason=reason[:300], version=F("version") + 1)


def undo_state(*, request, to_status: str, user=None, note: str = "", action: str = "undo"):
    """Put a request back to `to_status`, the status it had before the last step.

    The one deliberate bypass of the state machine: the machines have no backwards moves
    (a partner never sees one), but staff undoing a desk scan they just made correct their
    own last step, and the request must follow. Same guarantees as `change_state`: the row
    is locked (so an incoming partner message waits and then sees the restored status), the
    version bumped and the move written to the history."""
    model = type(request)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=request.pk)
        from_status = locked.status
        # The status field is protected against assignment (every other change must pass
        # the state machine), so the bypass writes the row itself; this is the only place.
        model.objects.filter(pk=locked.pk).update(
            status=to_status, version=locked.version + 1, status_changed_at=timezone.now())
        record(request=locked, action=action, user=user, note=note, source=Source.STAFF,
               from_status=from_status, to_status=to_status)
    return model.objects.get(pk=locked.pk)
