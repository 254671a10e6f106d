"""The desk's rows: holds, transits, loans and the scans that made them.

Patrons live in the `patrons` app; these rows point at them by the string reference
"patrons.Patron". Circulation knows nothing of ILL or partners: what ILL needs to hear of a
temporary ILL item goes through `circulation.hooks`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from fulfillment.models import BibRecord, CirculationDesk, Item, Library, TermsOfUse
from kauko.models import InstitutionScoped


class Hold(ConcurrentTransitionMixin, InstitutionScoped):
    """A patron's request for an item, up to the moment it is loaned (or given up)."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for item")
        IN_TRANSIT = "in_transit", _("In transit")
        ON_HOLD_SHELF = "on_hold_shelf", _("On hold shelf")
        LOANED = "loaned", _("Loaned")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATES = (State.WAITING, State.IN_TRANSIT, State.ON_HOLD_SHELF)

    patron = models.ForeignKey("patrons.Patron", on_delete=models.PROTECT, related_name="holds",
                               verbose_name=_("patron"))
    bib = models.ForeignKey(BibRecord, on_delete=models.CASCADE, related_name="holds",
                            verbose_name=_("bibliographic record"))
    item = models.ForeignKey(Item, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="holds", verbose_name=_("item"))
    pickup_desk = models.ForeignKey(
        CirculationDesk, on_delete=models.PROTECT, null=True, blank=True, related_name="holds",
        verbose_name=_("pickup desk"))
    office_delivery = models.BooleanField(
        _("office delivery"), default=False,
        help_text=_("Delivered by internal mail instead of waiting on a hold shelf."))
    delivery_address = models.TextField(_("delivery address"), blank=True)
    state = FSMField(_("state"), max_length=20, choices=State.choices, default=State.WAITING,
                     protected=True, db_index=True)
    is_ill = models.BooleanField(_("for an ILL item"), default=False)
    desk_pickup_only = models.BooleanField(
        _("desk pickup only"), default=False,
        help_text=_("No self-service loan (e.g. items from international partners)."))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shelved_at = models.DateTimeField(_("on hold shelf since"), null=True, blank=True)
    shelf_desk = models.ForeignKey(
        CirculationDesk, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("on the hold shelf of"),
        help_text=_("The desk whose hold shelf has the item (usually the pickup desk; for "
                    "office delivery stopped by a block, the desk that kept it)."))
    pickup_deadline = models.DateField(_("pickup by"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["institution", "state", "pickup_desk"])]

    def __str__(self):
        return f"{self.bib} → {self.patron}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @transition(field=state, source=State.WAITING, target=State.IN_TRANSIT)
    def send_in_transit(self):
        pass

    @transition(field=state, source=[State.WAITING, State.IN_TRANSIT], target=State.ON_HOLD_SHELF)
    def put_on_shelf(self):
        pass

    @transition(field=state, source=[State.ON_HOLD_SHELF, State.IN_TRANSIT, State.WAITING],
                target=State.LOANED)
    def mark_loaned(self):
        pass

    @transition(field=state, source=State.ON_HOLD_SHELF, target=State.EXPIRED)
    def expire(self):
        pass

    @transition(field=state, source=[State.WAITING, State.IN_TRANSIT, State.ON_HOLD_SHELF],
                target=State.CANCELLED)
    def cancel(self):
        pass

    @transition(field=state, source=[State.IN_TRANSIT, State.ON_HOLD_SHELF, State.LOANED],
                target=State.WAITING)
    def reopen(self):
        """Undo of a scan: the item is back where it was before."""


class Transit(InstitutionScoped):
    """An item on its way between libraries or desks. Open while `ended_at` is empty."""

    class Reason(models.TextChoices):
        HOLD = "hold", _("For a patron's hold")
        RETURN_HOME = "return_home", _("Back to its home location")
        RETURN_TO_RS = "return_to_rs", _("Back to the resource sharing office")
        OFFICE_DELIVERY = "office_delivery", _("Office delivery by internal mail")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="transits",
                             verbose_name=_("item"))
    from_library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("from"))
    to_library = models.ForeignKey(Library, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("to library"))
    to_desk = models.ForeignKey(CirculationDesk, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("to desk"))
    to_address = models.TextField(_("to address"), blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    hold = models.ForeignKey(Hold, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="transits")
    started_at = models.DateTimeField(_("since"), auto_now_add=True)
    ended_at = models.DateTimeField(_("arrived"), null=True, blank=True)

    class Meta:
        verbose_name = _("transit")
        verbose_name_plural = _("transits")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["item"], condition=models.Q(ended_at__isnull=True),
                                    name="one_open_transit_per_item"),
        ]

    def __str__(self):
        return f"{self.item} → {self.to_desk or self.to_library or self.to_address}"


class Loan(InstitutionScoped):
    patron = models.ForeignKey("patrons.Patron", on_delete=models.PROTECT, related_name="loans",
                               verbose_name=_("patron"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="loans",
                             verbose_name=_("item"))
    desk = models.ForeignKey(CirculationDesk, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("loaned at"))
    terms_of_use = models.ForeignKey(TermsOfUse, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("terms of use"))
    loaned_at = models.DateTimeField(_("loan date"), auto_now_add=True)
    due_at = models.DateTimeField(_("due"), db_index=True)
    renewals = models.PositiveSmallIntegerField(_("renewals"), default=0)
    is_ill = models.BooleanField(_("ILL loan"), default=False)
    self_service = models.BooleanField(_("self-service"), default=False)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    returned_desk = models.ForeignKey(CirculationDesk, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+",
                                      verbose_name=_("returned at"))
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    last_overdue_notice_at = models.DateTimeField(null=True, blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("block overridden by"))
    override_reason = models.CharField(
        _("what was overridden"), max_length=300, blank=True,
        help_text=_("The blocks or limits staff overrode to make this loan."))
    renewal_requested_at = models.DateTimeField(
        _("renewal asked"), null=True, blank=True,
        help_text=_("Last time a renewal of this ILL loan was sent to the partner."))

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-loaned_at"]
        constraints = [
            models.UniqueConstraint(fields=["item"], condition=models.Q(returned_at__isnull=True),
                                    name="one_open_loan_per_item"),
        ]
        indexes = [
            models.Index(fields=["institution", "patron"], condition=models.Q(
                returned_at__isnull=True), name="open_loans_by_patron"),
        ]

    def __str__(self):
        return f"{self.item} → {self.patron}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None


class DeskScan(InstitutionScoped):
    """One scan at a circulation desk: what was scanned, what the desk decided and said, and
    what undoing it would restore. Kept so the recent-scans list and undo survive reloads."""

    class Level(models.TextChoices):
        OK = "ok", _("OK")
        ACTION = "action", _("Action needed")
        STOP = "stop", _("Stop")

    desk = models.ForeignKey(CirculationDesk, on_delete=models.CASCADE, related_name="scans",
                             verbose_name=_("desk"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("staff member"))
    barcode = models.CharField(_("scanned"), max_length=200)
    item = models.ForeignKey(Item, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("item"))
    outcome = models.CharField(_("outcome"), max_length=30)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    message = models.CharField(_("message"), max_length=500)
    details = models.JSONField(_("details"), default=list, blank=True)
    slip_html = models.TextField(_("slip"), blank=True)
    undo = models.JSONField(default=dict, blank=True,
                            help_text=_("What undoing this scan restores."))
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    created_at = models.DateTimeField(_("scanned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("desk scan")
        verbose_name_plural = _("desk scans")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["desk", "-created_at"], name="desk_scan_recent")]

    def __str__(self):
        return f"{self.barcode}: {self.message}"

    @property
    def is_undoable(self) -> bool:
        return bool(self.undo) and self.undone_at is None
