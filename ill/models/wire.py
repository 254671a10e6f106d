"""ISO 18626 traffic: every message in and out, and the outbox that delivers ours.

`IsoMessage` keeps each message raw, with its confirmation, so staff read the conversation
on the request and can open the XML. `OutboxMessage` is written in the same transaction as
the state change that caused it; a Celery task posts it after commit, in order per request,
and a periodic sweeper picks up whatever never reached the broker.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["IsoMessage", "OutboxMessage"]


class IsoMessage(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    # Null only for messages we could not attribute (unknown recipient, garbage).
    institution = models.ForeignKey("kauko.Institution", on_delete=models.CASCADE,
                                    null=True, blank=True, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("partner"))
    borrowing_request = models.ForeignKey("ill.BorrowingRequest", on_delete=models.CASCADE,
                                          null=True, blank=True, related_name="iso_messages")
    lending_request = models.ForeignKey("ill.LendingRequest", on_delete=models.CASCADE,
                                        null=True, blank=True, related_name="iso_messages")
    kind = models.CharField(_("message"), max_length=40, blank=True)
    version = models.CharField(_("schema version"), max_length=10, blank=True)
    sender = models.CharField(_("sender agency id"), max_length=150, blank=True)
    recipient = models.CharField(_("recipient agency id"), max_length=150, blank=True)
    requesting_agency_request_id = models.CharField(_("request id"), max_length=100,
                                                    blank=True)
    timestamp = models.DateTimeField(_("message timestamp"), null=True, blank=True)
    # Display summary, so the conversation renders without parsing XML again.
    action = models.CharField(_("action"), max_length=30, blank=True)
    reason_for_message = models.CharField(_("reason for message"), max_length=30, blank=True)
    status = models.CharField(_("status"), max_length=30, blank=True)
    note = models.TextField(_("note"), blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    raw = models.TextField(_("XML"), blank=True)
    confirmation_raw = models.TextField(_("confirmation XML"), blank=True)
    confirmation_status = models.CharField(_("confirmation"), max_length=10, blank=True)
    error_type = models.CharField(_("error type"), max_length=40, blank=True)
    error_value = models.TextField(_("error"), blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Inbound only: a hash of (recipient, sender, request id, kind, timestamp, action/reason,
    # status). A peer that delivers the same message twice gets the stored confirmation.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ISO 18626 message")
        verbose_name_plural = _("ISO 18626 messages")
        # Declared here rather than with unique=/db_index= on the fields: on PostgreSQL
        # those add a second, LIKE-pattern index to each, which no query uses and every
        # incoming message would have to update.
        constraints = [models.UniqueConstraint(fields=["idempotency_key"],
                                               name="uniq_isomessage_idempotency_key")]
        indexes = [models.Index(fields=["requesting_agency_request_id"],
                                name="isomessage_request_id_idx")]

    def __str__(self):
        return f"{self.get_direction_display()} {self.kind} {self.requesting_agency_request_id}"

    @property
    def is_error(self) -> bool:
        return self.confirmation_status == "ERROR"


class OutboxMessage(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        ERROR = "error", _("Refused by the partner")
        FAILED = "failed", _("Could not be delivered")
        WITHDRAWN = "withdrawn", _("Withdrawn: the request closed before it went")

    # Rows of one chain leave strictly in sequence; a pending or failed row holds back the
    # ones behind it, so a partner never hears "returned" before "received".
    BLOCKING = (State.PENDING, State.SENDING, State.FAILED)

    message = models.OneToOneField(IsoMessage, on_delete=models.CASCADE, related_name="outbox")
    institution = models.ForeignKey("kauko.Institution", on_delete=models.CASCADE,
                                    related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    borrowing_request = models.ForeignKey("ill.BorrowingRequest", on_delete=models.CASCADE,
                                          null=True, blank=True, related_name="+")
    lending_request = models.ForeignKey("ill.LendingRequest", on_delete=models.CASCADE,
                                        null=True, blank=True, related_name="+")
    chain = models.CharField(max_length=40, help_text="b:<id> or l:<id>: the ordering scope.")
    sequence = models.PositiveIntegerField()
    url = models.URLField(max_length=1000)
    xml = models.TextField()
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sending_since = models.DateTimeField(null=True, blank=True)
    # Who holds the current claim: a fresh token per attempt. A result is recorded only by
    # the attempt whose token is still there, so a late first attempt cannot overwrite what
    # the attempt that took over its stale claim recorded.
    claim = models.CharField(max_length=32, blank=True, default="")
    last_error = models.TextField(_("last error"), blank=True)
    handed_to_broker_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["chain", "sequence"]
        verbose_name = _("outgoing ISO 18626 message")
        verbose_name_plural = _("outgoing ISO 18626 messages")
        constraints = [models.UniqueConstraint(fields=["chain", "sequence"],
                                               name="uniq_outbox_chain_sequence")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self):
        return f"{self.chain}#{self.sequence} {self.state}"
