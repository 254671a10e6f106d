"""Borrowing requests: one patron's need, asked of partners in turn; their rota and the
purchase requests a need can turn into.

The status is a django-fsm state machine. Staff actions and (later) incoming ISO 18626
messages drive the same transitions, always through `ill.workflow.change_state`, which locks
the row, checks the move, bumps the version and writes the history in one transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from ill.models.requests import Citation, RequestRecord
from ill.models.search import CITATION_SEARCH_FIELDS, Searchable
from kauko.models import InstitutionScoped


class BorrowingRequest(ConcurrentTransitionMixin, InstitutionScoped, Citation, RequestRecord,
                       Searchable):
    # What staff read for each transition (refusals, the state diagram).
    TRANSITION_LABELS = {
        "make_ready": _("Mark ready to be sent"),
        "send": _("Send to partner"),
        "accept": _("Partner accepted"),
        "will_supply": _("Partner will supply"),
        "set_conditional": _("Partner set a condition"),
        "accept_conditions": _("Accept the conditions"),
        "reject": _("Partner rejected"),
        "ship_physically": _("Partner shipped physically"),
        "ship_digitally": _("Partner shipped digitally"),
        "receive": _("Receive"),
        "receive_copy": _("Paper copy received"),
        "hand_over_copy": _("Paper copy handed to the patron"),
        "loan_to_patron": _("Loan to patron"),
        "request_renewal": _("Request renewal"),
        "renewal_granted": _("Renewal granted"),
        "renewal_refused": _("Renewal refused"),
        "mark_overdue": _("Overdue"),
        "recall": _("Recalled by partner"),
        "return_by_patron": _("Returned by patron"),
        "return_to_partner": _("Return to partner"),
        "report_lost": _("Report lost"),
        "report_damaged": _("Report damaged"),
        "ask_to_cancel": _("Ask the partner to cancel"),
        "cancel_refused": _("Partner refused to cancel"),
        "cancel_by_staff": _("Cancel"),
        "cancel_by_patron": _("Cancelled by patron"),
        "cancel_by_partner": _("Cancelled by partner"),
        "expire": _("Expire"),
        "complete": _("Complete"),
        "reactivate": _("Reactivate"),
        "close_fulfilled_otherwise": _("Close"),
    }

    class Type(models.TextChoices):
        LOAN = "loan", _("Physical loan")
        ARTICLE = "article", _("Article copy")
        CHAPTER = "chapter", _("Chapter copy")

    class Status(models.TextChoices):
        CREATED = "created", _("Created borrowing request")
        READY = "ready", _("Ready to be sent")
        SENT = "sent", _("Request sent to partner")
        ACCEPTED = "accepted", _("Request accepted")
        WILL_SUPPLY = "will_supply", _("Will supply")
        CONDITIONAL = "conditional", _("Conditional")
        REJECTED = "rejected", _("Rejected by partner")
        SHIPPED_PHYSICAL = "shipped_physical", _("Shipped physically")
        SHIPPED_DIGITAL = "shipped_digital", _("Shipped digitally")
        RECEIVED = "received", _("Physically received by library")
        LOANED = "loaned", _("Loaned item to patron")
        RENEW_REQUESTED = "renew_requested", _("Renew requested")
        RENEWED = "renewed", _("Renewed by partner")
        RENEWAL_REFUSED = "renewal_refused", _("Renew request not accepted")
        OVERDUE = "overdue", _("Overdue request")
        RECALLED = "recalled", _("Recalled by partner")
        RETURNED_BY_PATRON = "returned_by_patron", _("Returned by patron")
        RETURNED_TO_PARTNER = "returned_to_partner", _("Returned item to partner")
        LOST = "lost", _("Report lost item to partner")
        DAMAGED = "damaged", _("Report damaged item to partner")
        WAITING_CANCEL = "waiting_cancel", _("Waiting for cancel response")
        COMPLETED = "completed", _("Request completed")
        CANCELLED_STAFF = "cancelled_staff", _("Canceled by staff")
        CANCELLED_PATRON = "cancelled_patron", _("Canceled by patron")
        CANCELLED_PARTNER = "cancelled_partner", _("Canceled by partner")
        EXPIRED = "expired", _("Expired")

    S = Status
    FINAL = (S.COMPLETED, S.CANCELLED_STAFF, S.CANCELLED_PATRON, S.CANCELLED_PARTNER,
             S.EXPIRED)
    # Before the partner has said yes: the request can still be edited, re-routed, cancelled.
    UNANSWERED = (S.CREATED, S.READY, S.REJECTED)
    AT_PARTNER = (S.SENT, S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL)
    # The item is here or with the patron.
    ON_LOAN = (S.LOANED, S.RENEW_REQUESTED, S.RENEWED, S.RENEWAL_REFUSED, S.OVERDUE,
               S.RECALLED)
    HAS_ITEM = (S.RECEIVED, *ON_LOAN, S.RETURNED_BY_PATRON)

    history_link = "borrowing_request"  # which HistoryEntry link points here

    request_type = models.CharField(_("request type"), max_length=10, choices=Type.choices,
                                    default=Type.LOAN)
    patron = models.ForeignKey("patrons.Patron", on_delete=models.PROTECT,
                               related_name="borrowing_requests", verbose_name=_("patron"))
    rs_library = models.ForeignKey("fulfillment.Library", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("resource sharing library"))
    status = FSMField(_("status"), max_length=24, choices=Status.choices, default=S.CREATED,
                      protected=True)
    needed_before = models.DateField(_("needed before"), null=True, blank=True)
    pickup_desk = models.ForeignKey(
        "fulfillment.CirculationDesk", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("pickup desk"))
    office_delivery = models.BooleanField(_("office delivery"), default=False)
    delivery_address = models.TextField(_("office delivery address"), blank=True)
    max_cost = models.DecimalField(_("maximum cost"), max_digits=8, decimal_places=2,
                                   null=True, blank=True)
    max_cost_currency = models.CharField(
        _("currency"), max_length=3, default="EUR",
        help_text=_("ISO 4217 code of the maximum cost (a partner's retry offer may name "
                    "another)."))
    patron_fee = models.DecimalField(_("patron fee"), max_digits=8, decimal_places=2,
                                     null=True, blank=True)
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="borrowing_requests",
                                verbose_name=_("current partner"))
    partner_due_date = models.DateField(_("partner's due date"), null=True, blank=True)
    patron_due_date = models.DateField(_("patron due date"), null=True, blank=True)
    renewals = models.PositiveSmallIntegerField(_("renewals"), default=0)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    partner_item_barcode = models.CharField(_("partner's item barcode"), max_length=100,
                                            blank=True)
    condition_text = models.TextField(_("partner's condition"), blank=True)
    condition_reply_by = models.DateField(_("answer the condition by"), null=True, blank=True)
    reason = models.CharField(_("last reason"), max_length=300, blank=True,
                              help_text=_("Why the partner said no, why it was cancelled…"))
    note_to_partner = models.TextField(_("note to partner"), blank=True)
    needs_attention = models.BooleanField(_("needs attention"), default=False, db_index=True)
    attention_reason = models.CharField(_("why it needs attention"), max_length=300,
                                        blank=True)
    temporary_item = models.ForeignKey(
        "fulfillment.Item", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="borrowing_requests", verbose_name=_("temporary item"))
    hold = models.ForeignKey("circulation.Hold", on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("hold"))
    # Digital delivery (articles).
    digital_url = models.URLField(_("partner's link"), max_length=1000, blank=True)
    digital_file = models.FileField(_("delivered file"), upload_to="ill/articles/%Y/%m/",
                                    blank=True)
    download_token = models.CharField(max_length=64, blank=True, db_index=True)
    download_expires_at = models.DateTimeField(_("download link expires"), null=True,
                                               blank=True)
    delivered_at = models.DateTimeField(_("delivered to patron"), null=True, blank=True)
    first_opened_at = models.DateTimeField(_("first opened by patron"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("times opened"), default=0)
    # Automation (ill.borrowing.automation): which rule chose the rota, and why.
    rota_rule = models.ForeignKey("ill.AssignmentRule", on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+",
                                  verbose_name=_("rota chosen by rule"))
    rota_rule_reason = models.CharField(_("why this rota"), max_length=300, blank=True)
    auto_send = models.BooleanField(_("sent automatically"), default=False,
                                    help_text=_("Sent to its partners without a click."))

    class Meta:
        verbose_name = _("borrowing request")
        verbose_name_plural = _("borrowing requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "number"],
                                    name="uniq_borrowing_number"),
        ]
        indexes = [
            models.Index(fields=["institution", "status", "-created_at"],
                         name="borrowing_queue_idx"),
            models.Index(fields=["institution", "-created_at"], name="borrowing_recent_idx"),
            models.Index(fields=["institution", "partner", "-created_at"],
                         name="borrowing_partner_idx"),
            models.Index(fields=["institution", "patron_due_date"],
                         name="borrowing_due_idx"),
            # Statistics (reports/): articles delivered, long loans by month received.
            models.Index(fields=["institution", "delivered_at"],
                         name="borrowing_delivered_idx"),
            models.Index(fields=["institution", "received_at"],
                         name="borrowing_received_idx"),
            models.Index(fields=["institution", "partner_item_barcode"],
                         name="borrowing_partner_barcode_idx"),
        ]

    # Search (ill/models/search.py): what the search text is made of, and the exact matches.
    SEARCH_FIELDS = (*CITATION_SEARCH_FIELDS, "patron_id", "partner_item_barcode")

    def search_parts(self) -> list:
        patron = self.patron if self.patron_id else None
        names = [patron.first_name, patron.last_name, patron.barcode] if patron else []
        return [*super().search_parts()[:len(CITATION_SEARCH_FIELDS)], *names,
                self.partner_item_barcode]

    @classmethod
    def exact_search_q(cls, *, value: str, patron_ids: list, item_ids: list) -> models.Q:
        """The number, the id a partner was sent (each rota attempt's), the patron's card,
        the partner's barcode or a barcode of the temporary item."""
        attempts = list(RotaEntry.objects.filter(attempt_id=value)
                        .values_list("request_id", flat=True)[:100])
        return (models.Q(number__in={value, value.upper()})
                | models.Q(partner_item_barcode=value) | models.Q(pk__in=attempts)
                | models.Q(patron_id__in=patron_ids) | models.Q(temporary_item_id__in=item_ids))

    def __str__(self):
        return f"{self.number} {self.title}"

    # --- derived facts -----------------------------------------------------------------

    @property
    def is_physical(self) -> bool:
        return self.request_type == self.Type.LOAN

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def profile(self):
        return self.partner.borrowing_profile if self.partner_id else None

    @property
    def is_overdue(self) -> bool:
        return (self.status in self.ON_LOAN and self.patron_due_date is not None
                and self.patron_due_date < timezone.localdate())

    # --- the state machine ---------------------------------------------------------------
    # Transition bodies only move the status; services set the data around them, so the
    # same transition serves a staff form and an incoming ISO 18626 message alike.

    @transition(field=status, source=[S.CREATED, S.REJECTED], target=S.READY)
    def make_ready(self):
        pass

    @transition(field=status, source=[S.CREATED, S.READY, S.REJECTED], target=S.SENT)
    def send(self):
        pass

    @transition(field=status, source=S.SENT, target=S.ACCEPTED)
    def accept(self):
        """The partner expects to supply."""

    @transition(field=status, source=[S.SENT, S.ACCEPTED, S.CONDITIONAL], target=S.WILL_SUPPLY,
                conditions=[lambda r: r.uses("will_supply")])
    def will_supply(self):
        pass

    @transition(field=status, source=[S.SENT, S.ACCEPTED, S.WILL_SUPPLY], target=S.CONDITIONAL,
                conditions=[lambda r: r.uses("conditional")])
    def set_conditional(self):
        pass

    @transition(field=status, source=S.CONDITIONAL, target=S.WILL_SUPPLY)
    def accept_conditions(self):
        pass

    @transition(field=status, source=[S.SENT, S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL],
                target=S.REJECTED, conditions=[lambda r: r.uses("reject")])
    def reject(self):
        """The partner cannot supply (or we refused its conditions)."""

    @transition(field=status, source=[S.SENT, S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL],
                target=S.SHIPPED_PHYSICAL, conditions=[lambda r: r.is_physical])
    def ship_physically(self):
        pass

    @transition(field=status, source=[S.SENT, S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL],
                target=S.SHIPPED_DIGITAL, conditions=[lambda r: not r.is_physical])
    def ship_digitally(self):
        pass

    @transition(field=status, source=[S.SHIPPED_PHYSICAL, S.SENT, S.ACCEPTED, S.WILL_SUPPLY],
                target=S.RECEIVED, conditions=[lambda r: r.is_physical])
    def receive(self):
        """The RS office has the item (even when the partner never said it shipped)."""

    @transition(field=status, source=[S.SENT, S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL,
                                      S.SHIPPED_DIGITAL],
                target=S.RECEIVED, conditions=[lambda r: not r.is_physical])
    def receive_copy(self):
        """An article or chapter came as a paper copy by post: it goes to the pickup desk."""

    @transition(field=status, source=S.RECEIVED, target=S.COMPLETED,
                conditions=[lambda r: not r.is_physical])
    def hand_over_copy(self):
        """The patron got the paper copy to keep: nothing comes back."""

    @transition(field=status, source=[S.RECEIVED, S.RETURNED_BY_PATRON], target=S.LOANED,
                conditions=[lambda r: r.is_physical])
    def loan_to_patron(self):
        pass

    @transition(field=status, source=[S.LOANED, S.RENEWED, S.RENEWAL_REFUSED, S.OVERDUE],
                target=S.RENEW_REQUESTED, conditions=[lambda r: r.uses("renew")])
    def request_renewal(self):
        pass

    @transition(field=status, source=S.RENEW_REQUESTED, target=S.RENEWED)
    def renewal_granted(self):
        pass

    @transition(field=status, source=S.RENEW_REQUESTED, target=S.RENEWAL_REFUSED)
    def renewal_refused(self):
        pass

    @transition(field=status, source=[S.LOANED, S.RENEWED, S.RENEWAL_REFUSED, S.RENEW_REQUESTED],
                target=S.OVERDUE, conditions=[lambda r: r.uses("overdue")])
    def mark_overdue(self):
        pass

    @transition(field=status, source=[S.RECEIVED, *ON_LOAN], target=S.RECALLED,
                conditions=[lambda r: r.uses("recall")])
    def recall(self):
        pass

    @transition(field=status, source=[*ON_LOAN], target=S.RETURNED_BY_PATRON)
    def return_by_patron(self):
        pass

    @transition(field=status, source=[S.RECEIVED, S.RETURNED_BY_PATRON, *ON_LOAN],
                target=S.RETURNED_TO_PARTNER)
    def return_to_partner(self):
        pass

    @transition(field=status, source=[S.RECEIVED, *ON_LOAN, S.RETURNED_BY_PATRON,
                                      S.SHIPPED_PHYSICAL],
                target=S.LOST, conditions=[lambda r: r.uses("lost_damaged")])
    def report_lost(self):
        pass

    @transition(field=status, source=[S.RECEIVED, *ON_LOAN, S.RETURNED_BY_PATRON],
                target=S.DAMAGED, conditions=[lambda r: r.uses("lost_damaged")])
    def report_damaged(self):
        pass

    @transition(field=status, source=[*AT_PARTNER], target=S.WAITING_CANCEL,
                conditions=[lambda r: r.uses("cancel_response")])
    def ask_to_cancel(self):
        pass

    @transition(field=status, source=S.WAITING_CANCEL, target=S.SENT)
    def cancel_refused(self):
        """The partner would not cancel: the request goes on as sent."""

    @transition(field=status, source=[*UNANSWERED, *AT_PARTNER, S.WAITING_CANCEL,
                                      S.SHIPPED_DIGITAL],
                target=S.CANCELLED_STAFF)
    def cancel_by_staff(self):
        pass

    @transition(field=status, source=[*UNANSWERED, *AT_PARTNER, S.WAITING_CANCEL],
                target=S.CANCELLED_PATRON)
    def cancel_by_patron(self):
        pass

    @transition(field=status, source=[*AT_PARTNER, S.WAITING_CANCEL], target=S.CANCELLED_PARTNER)
    def cancel_by_partner(self):
        pass

    @transition(field=status, source=[S.SENT, S.ACCEPTED, S.CONDITIONAL, S.READY, S.CREATED],
                target=S.EXPIRED)
    def expire(self):
        pass

    @transition(field=status, source=[S.SHIPPED_DIGITAL, S.RETURNED_TO_PARTNER, S.LOST,
                                      S.DAMAGED, S.RECEIVED, S.RETURNED_BY_PATRON],
                target=S.COMPLETED)
    def complete(self):
        pass

    @transition(field=status, source=[S.COMPLETED, S.EXPIRED, S.CANCELLED_STAFF,
                                      S.CANCELLED_PATRON, S.CANCELLED_PARTNER],
                target=S.READY)
    def reactivate(self):
        pass

    @transition(field=status, source=[S.CREATED, S.READY, S.REJECTED], target=S.COMPLETED)
    def close_fulfilled_otherwise(self):
        """Closed because the own collection or a purchase fills the need."""


class RotaEntry(models.Model):
    """One partner in a request's rota, tried in order, with how it went."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Not asked yet")
        ASKED = "asked", _("Asked")
        SUPPLIED = "supplied", _("Supplied")
        REJECTED = "rejected", _("Could not supply")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")

    class LocateOutcome(models.TextChoices):
        HELD = "held", _("Holds it")
        NOT_HELD = "not_held", _("Does not hold it")
        NO_ANSWER = "no_answer", _("No answer in time")
        UNREADABLE = "unreadable", _("Answer could not be read")
        NOT_CONFIGURED = "not_configured", _("No locate profile")

    request = models.ForeignKey(BorrowingRequest, on_delete=models.CASCADE, related_name="rota")
    position = models.PositiveSmallIntegerField(_("order"))
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("partner"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices,
                               default=Outcome.PENDING)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Each attempt gets its own id on the wire, so a late answer from an earlier lender is
    # recognised as such (DOMAIN.md §5).
    attempt_id = models.CharField(_("request id sent"), max_length=60, blank=True,
                                  db_index=True)
    asked_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # What the partner's catalogue said when the rota was located (ill.borrowing.locate).
    locate_outcome = models.CharField(_("located"), max_length=16, blank=True,
                                      choices=LocateOutcome.choices)
    locate_note = models.CharField(_("locate answer"), max_length=300, blank=True)
    located_at = models.DateTimeField(_("located at"), null=True, blank=True)
    # The silent-partner timer: when we asked the partner where it stands (ISO 18626
    # StatusRequest) or sent it a reminder letter (e-mail partners).
    chased_at = models.DateTimeField(_("partner chased"), null=True, blank=True)

    class Meta:
        ordering = ["request", "position"]
        verbose_name = _("rota entry")
        verbose_name_plural = _("rota")
        indexes = [
            # Statistics (reports/): attempts sent, and supplies answered, in a date range.
            models.Index(fields=["asked_at"], name="rota_asked_idx"),
            models.Index(fields=["answered_at"], name="rota_answered_idx"),
        ]

    def __str__(self):
        return f"{self.position}. {self.partner}"




class PurchaseRequest(InstitutionScoped, Citation):
    """A borrowing need turned over to acquisitions."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ORDERED = "ordered", _("Ordered")
        REJECTED = "rejected", _("Rejected")

    borrowing_request = models.OneToOneField(BorrowingRequest, on_delete=models.SET_NULL,
                                             null=True, related_name="purchase_request")
    patron = models.ForeignKey("patrons.Patron", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("purchase request")
        verbose_name_plural = _("purchase requests")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


