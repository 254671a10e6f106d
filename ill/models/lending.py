"""Lending requests: a partner's need that the RS library answers from its own collection.

Like borrowing requests, the status is a django-fsm state machine moved only through
`ill.workflow.change_state` (row lock, transition check, version, history). Staff actions for
e-mail partners and, later, incoming ISO 18626 messages call the same services, so each
transition is named for what happened, not for who made it happen.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from ill.models.requests import Citation, RequestRecord
from ill.models.search import CITATION_SEARCH_FIELDS, Searchable
from kauko.models import InstitutionScoped


class LendingRequest(ConcurrentTransitionMixin, InstitutionScoped, Citation, RequestRecord,
                     Searchable):
    # What staff read for each transition (refusals, the state diagram).
    TRANSITION_LABELS = {
        "locate_item": _("Locate the item"),
        "locate_failed": _("Locate failed"),
        "supply": _("Will supply"),
        "offer_conditions": _("Add a condition"),
        "conditions_accepted": _("Borrower accepted the condition"),
        "conditions_refused": _("Borrower refused the condition"),
        "unfilled": _("Reject (unfilled)"),
        "ship_loan": _("Ship"),
        "ship_copy": _("Ship digitally"),
        "partner_received": _("Partner received it"),
        "renewal_asked": _("Partner asked to renew"),
        "renew_yes": _("Renew"),
        "renew_no": _("Refuse the renewal"),
        "become_overdue": _("Overdue"),
        "recall_item": _("Recall"),
        "partner_returned": _("Returned by partner"),
        "check_in": _("Check in"),
        "declare_lost": _("Report lost"),
        "declare_damaged": _("Report damaged"),
        "cancel_yes": _("Cancel at the partner's request"),
        "expire": _("Expire"),
    }

    class ServiceType(models.TextChoices):
        LOAN = "loan", _("Loan")
        COPY = "copy", _("Copy")
        COPY_OR_LOAN = "copy_or_loan", _("Copy or loan")

    class Status(models.TextChoices):
        CREATED = "created", _("New lending request")
        LOCATE_FAILED = "locate_failed", _("Locate failed")
        PROCESSING = "processing", _("Being processed")
        WILL_SUPPLY = "will_supply", _("Will supply")
        CONDITIONAL = "conditional", _("Conditional")
        SHIPPED_PHYSICAL = "shipped_physical", _("Shipped physically")
        SHIPPED_DIGITAL = "shipped_digital", _("Shipped digitally")
        RECEIVED = "received", _("Received by partner")
        RENEW_REQUESTED = "renew_requested", _("Renew requested")
        OVERDUE = "overdue", _("Overdue")
        RECALLED = "recalled", _("Recalled")
        RETURNED = "returned", _("Returned by partner")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected (unfilled)")
        CANCELLED = "cancelled", _("Cancelled by partner")
        EXPIRED = "expired", _("Expired")
        LOST = "lost", _("Lost")
        DAMAGED = "damaged", _("Damaged")

    class UnfilledReason(models.TextChoices):
        # The values are ISO 18626 reasonUnfilled codes, so a message can carry them as they are.
        NOT_HELD = "NotHeld", _("Not held")
        NOT_ON_SHELF = "NotOnShelf", _("Not on shelf")
        ON_LOAN = "OnLoan", _("On loan")
        NON_CIRCULATING = "NonCirculating", _("Non-circulating")
        POOR_CONDITION = "PoorCondition", _("Poor condition")
        POLICY = "PolicyProblem", _("Policy problem")
        COST = "CostExceedsMaxCost", _("Cost exceeds the maximum offered")
        OTHER = "Other", _("Other")

    class ConditionAnswer(models.TextChoices):
        PENDING = "", _("Not answered yet")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    S = Status
    FINAL = (S.SHIPPED_DIGITAL, S.COMPLETED, S.REJECTED, S.CANCELLED, S.EXPIRED, S.LOST,
             S.DAMAGED)
    # Not answered yet: these expire when the partner's profile says so.
    UNANSWERED = (S.CREATED, S.LOCATE_FAILED, S.PROCESSING)
    # Before it leaves the house: can still be answered, cancelled, or rejected.
    BEFORE_SHIPPING = (*UNANSWERED, S.WILL_SUPPLY, S.CONDITIONAL)
    # Our item is with the borrowing library.
    AWAY = (S.SHIPPED_PHYSICAL, S.RECEIVED, S.RENEW_REQUESTED, S.OVERDUE, S.RECALLED)
    # States where our item sits in the outgoing location, found or on its way back.
    ITEM_OUT = (S.PROCESSING, S.WILL_SUPPLY, S.CONDITIONAL, *AWAY, S.RETURNED)
    PICK_LIST = (S.PROCESSING, S.WILL_SUPPLY)

    history_link = "lending_request"  # which HistoryEntry link points here

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT,
                                related_name="lending_requests",
                                verbose_name=_("requesting partner"))
    partner_request_id = models.CharField(
        _("partner's request id"), max_length=100, blank=True,
        help_text=_("The number the requesting library gave the request."))
    rs_library = models.ForeignKey("fulfillment.Library", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("resource sharing library"))
    service_type = models.CharField(_("service type"), max_length=12,
                                    choices=ServiceType.choices, default=ServiceType.LOAN)
    status = FSMField(_("status"), max_length=24, choices=Status.choices, default=S.CREATED,
                      protected=True)
    needed_before = models.DateField(_("needed before"), null=True, blank=True)
    requested_delivery = models.CharField(
        _("requested delivery"), max_length=200, blank=True,
        help_text=_("How the partner wants it sent (mail, courier, e-mail…)."))
    delivery_address = models.TextField(_("delivery address"), blank=True,
                                        help_text=_("Empty: the partner's postal address."))
    max_cost = models.DecimalField(_("maximum cost offered"), max_digits=8, decimal_places=2,
                                   null=True, blank=True)
    partner_note = models.TextField(_("notes from the partner"), blank=True)
    item = models.ForeignKey("fulfillment.Item", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="lending_requests",
                             verbose_name=_("our item"))
    due_date = models.DateField(_("due date"), null=True, blank=True,
                                help_text=_("When the partner must return our item."))
    renewals = models.PositiveSmallIntegerField(_("renewals"), default=0)
    condition_text = models.TextField(_("our condition"), blank=True)
    condition_cost = models.DecimalField(_("cost asked"), max_digits=8, decimal_places=2,
                                         null=True, blank=True)
    condition_reply_by = models.DateField(_("answer the condition by"), null=True,
                                          blank=True)
    condition_answer = models.CharField(_("partner's answer to the condition"), max_length=10,
                                        choices=ConditionAnswer.choices, blank=True)
    unfilled_reason = models.CharField(_("reason unfilled"), max_length=20,
                                       choices=UnfilledReason.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True,
                              help_text=_("Why we said no, why it was cancelled…"))
    digital_url = models.URLField(_("link sent"), max_length=1000, blank=True)
    digital_file = models.FileField(_("file sent"), upload_to="ill/lending/%Y/%m/",
                                    blank=True)
    # The partner fetches an uploaded copy under an expiring link (no login: the token is
    # the key).
    download_token = models.CharField(max_length=64, blank=True, db_index=True)
    download_expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    pull_slip_printed_at = models.DateTimeField(_("pull slip printed"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned by partner"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    last_overdue_notice_at = models.DateTimeField(_("last overdue notice"), null=True,
                                                  blank=True)
    cancel_requested_at = models.DateTimeField(
        _("partner asked to cancel"), null=True, blank=True,
        help_text=_("The partner asked to cancel while we fetch the item: answered yes or "
                    "no by staff; meanwhile the item is not shipped."))
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    attention_reason = models.CharField(_("why it needs attention"), max_length=300,
                                        blank=True)

    class Meta:
        verbose_name = _("lending request")
        verbose_name_plural = _("lending requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "number"],
                                    name="uniq_lending_number"),
            # ISO 18626 keys a transaction by the partner and its id (DOMAIN.md §5); e-mail
            # partners do not always give one, so only given ids must be unique.
            models.UniqueConstraint(fields=["institution", "partner", "partner_request_id"],
                                    condition=~Q(partner_request_id=""),
                                    name="uniq_lending_partner_request_id"),
        ]
        indexes = [
            models.Index(fields=["institution", "status", "-created_at"],
                         name="lending_queue_idx"),
            models.Index(fields=["institution", "-created_at"], name="lending_recent_idx"),
            models.Index(fields=["institution", "partner", "-created_at"],
                         name="lending_partner_idx"),
            models.Index(fields=["institution", "due_date"], name="lending_due_idx"),
            # Statistics (reports/): shipped in a date range (billing, turnaround).
            models.Index(fields=["institution", "shipped_at"], name="lending_shipped_idx"),
            models.Index(fields=["institution", "partner_request_id"],
                         name="lending_partner_request_idx"),
            # The list's "needs attention" count: few rows, found without reading the table.
            models.Index(fields=["institution"], condition=Q(needs_attention=True),
                         name="lending_attention_idx"),
        ]

    # Search (ill/models/search.py): what the search text is made of, and the exact matches.
    SEARCH_FIELDS = (*CITATION_SEARCH_FIELDS, "partner_request_id")

    @classmethod
    def exact_search_q(cls, *, value: str, patron_ids: list, item_ids: list) -> Q:
        """The number, the partner's request id or a barcode of our item."""
        return (Q(number__in={value, value.upper()}) | Q(partner_request_id=value)
                | Q(item_id__in=item_ids))

    def __str__(self):
        return f"{self.number} {self.title}"

    # --- derived facts -----------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def may_loan(self) -> bool:
        return self.service_type in (self.ServiceType.LOAN, self.ServiceType.COPY_OR_LOAN)

    @property
    def may_copy(self) -> bool:
        return self.service_type in (self.ServiceType.COPY, self.ServiceType.COPY_OR_LOAN)

    @property
    def profile(self):
        return self.partner.lending_profile if self.partner_id else None

    @property
    def is_overdue(self) -> bool:
        return (self.status in self.AWAY and self.due_date is not None
                and self.due_date < timezone.localdate())

    # --- the state machine ---------------------------------------------------------------
    # Transition bodies only move the status; services set the data (and move the item)
    # around them, so a staff form and an ISO 18626 message share each transition.

    @transition(field=status, source=[S.CREATED, S.LOCATE_FAILED], target=S.PROCESSING)
    def locate_item(self):
        """An item of ours was found (automatically or by staff) and goes on the pick list;
        the service sets the item in the same transaction."""

    @transition(field=status, source=S.CREATED, target=S.LOCATE_FAILED)
    def locate_failed(self):
        pass

    @transition(field=status, source=[S.PROCESSING], target=S.WILL_SUPPLY,
                conditions=[lambda r: r.uses("will_supply")])
    def supply(self):
        pass

    @transition(field=status, source=[S.PROCESSING, S.WILL_SUPPLY], target=S.CONDITIONAL,
                conditions=[lambda r: r.uses("conditional")])
    def offer_conditions(self):
        pass

    @transition(field=status, source=S.CONDITIONAL, target=S.WILL_SUPPLY)
    def conditions_accepted(self):
        pass

    @transition(field=status, source=S.CONDITIONAL, target=S.CANCELLED)
    def conditions_refused(self):
        """The borrower would not take our conditions: the request ends."""

    @transition(field=status, source=[*BEFORE_SHIPPING], target=S.REJECTED,
                conditions=[lambda r: r.uses("reject")])
    def unfilled(self):
        pass

    @transition(field=status, source=[S.PROCESSING, S.WILL_SUPPLY], target=S.SHIPPED_PHYSICAL,
                conditions=[lambda r: r.may_loan and r.item_id is not None])
    def ship_loan(self):
        pass

    @transition(field=status, source=[S.LOCATE_FAILED, S.PROCESSING, S.WILL_SUPPLY],
                target=S.SHIPPED_DIGITAL, conditions=[lambda r: r.may_copy])
    def ship_copy(self):
        """Copies may come from electronic holdings the catalogue does not list."""

    @transition(field=status, source=S.SHIPPED_PHYSICAL, target=S.RECEIVED)
    def partner_received(self):
        pass

    @transition(field=status, source=[S.SHIPPED_PHYSICAL, S.RECEIVED, S.OVERDUE],
                target=S.RENEW_REQUESTED, conditions=[lambda r: r.uses("renew")])
    def renewal_asked(self):
        pass

    @transition(field=status, source=S.RENEW_REQUESTED, target=S.RECEIVED)
    def renew_yes(self):
        pass

    @transition(field=status, source=S.RENEW_REQUESTED, target=S.RECEIVED)
    def renew_no(self):
        """The old due date stands; the overdue job catches it if that has passed."""

    @transition(field=status, source=[S.SHIPPED_PHYSICAL, S.RECEIVED, S.RENEW_REQUESTED,
                                      S.RECALLED],
                target=S.OVERDUE, conditions=[lambda r: r.uses("overdue")])
    def become_overdue(self):
        pass

    @transition(field=status, source=[S.SHIPPED_PHYSICAL, S.RECEIVED, S.RENEW_REQUESTED,
                                      S.OVERDUE],
                target=S.RECALLED, conditions=[lambda r: r.uses("recall")])
    def recall_item(self):
        pass

    @transition(field=status, source=[*AWAY], target=S.RETURNED)
    def partner_returned(self):
        pass

    @transition(field=status, source=[*AWAY, S.RETURNED], target=S.COMPLETED)
    def check_in(self):
        """Scanned back in: e-mail partners seldom say they shipped it back first."""

    @transition(field=status, source=[*AWAY, S.RETURNED], target=S.LOST,
                conditions=[lambda r: r.uses("lost_damaged")])
    def declare_lost(self):
        pass

    @transition(field=status, source=[*AWAY, S.RETURNED], target=S.DAMAGED,
                conditions=[lambda r: r.uses("lost_damaged")])
    def declare_damaged(self):
        pass

    @transition(field=status, source=[*BEFORE_SHIPPING], target=S.CANCELLED)
    def cancel_yes(self):
        """The partner asked to cancel and we agreed."""

    @transition(field=status, source=[*UNANSWERED, S.CONDITIONAL], target=S.EXPIRED)
    def expire(self):
        pass


class LendingCandidate(models.Model):
    """An item of ours that may answer a lending request, as locate found it."""

    class MatchedBy(models.TextChoices):
        IDENTIFIER = "identifier", _("Identifier")
        TITLE = "title", _("Title, author and year")
        STAFF = "staff", _("Chosen by staff")

    request = models.ForeignKey(LendingRequest, on_delete=models.CASCADE,
                                related_name="candidates")
    item = models.ForeignKey("fulfillment.Item", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("item"))
    matched_by = models.CharField(_("matched by"), max_length=12, choices=MatchedBy.choices)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "id"]
        verbose_name = _("locate candidate")
        verbose_name_plural = _("locate candidates")
        constraints = [models.UniqueConstraint(fields=["request", "item"],
                                               name="uniq_lending_candidate")]

    def __str__(self):
        return f"{self.request_id}: {self.item_id}"
