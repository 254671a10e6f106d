"""Letters: the templates an institution edits and the record of every letter sent.

The letter types themselves (codes, names, sample data) live in code, in
the apps' `letter_types` modules; the default wording lives in `templates/letters/`. The database only
holds what an institution changed and what was actually sent.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.template import TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kauko.letter_registry import UnknownLetterType, compile_letter_part, letter_type
from kauko.models.tenancy import LANGUAGE_CHOICES, InstitutionScoped


class LetterTemplate(InstitutionScoped):
    """An institution's own wording of one letter type in one language.

    Overrides the default files; an inactive template is kept but not used, so an admin can
    try the default again without losing their text.
    """

    code = models.CharField(_("letter type"), max_length=80)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES)
    subject = models.CharField(_("subject"), max_length=255)
    text = models.TextField(_("plain text"))
    html = models.TextField(
        _("HTML"), blank=True,
        help_text=_("Leave empty to make the HTML version from the plain text."))
    active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Off: Kauko sends its default letter instead of this one."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("letter template")
        verbose_name_plural = _("letter templates")
        ordering = ["code", "language"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code", "language"],
                                    name="uniq_letter_template")
        ]

    def __str__(self):
        return f"{self.code} ({self.language})"

    def clean(self):
        super().clean()
        errors = {}
        try:
            letter_type(self.code)
        except UnknownLetterType as exc:
            errors["code"] = str(exc)
        # A broken template must be caught when it is saved, not when a patron's letter is
        # due to go out.
        for name in ("subject", "text", "html"):
            try:
                compile_letter_part(getattr(self, name) or "")
            except TemplateSyntaxError as exc:
                errors[name] = _("Template error: %(error)s") % {"error": exc}
        if errors:
            raise ValidationError(errors)


class SentLetter(InstitutionScoped):
    """One letter as it was sent (or failed to be sent), kept for staff and for audit.

    It is also the letter's outbox: a letter queued with `kauko.letters.queue_letter` is
    written "queued", rendered, in the transaction of the change it reports, and a task
    (or, if the broker never took it, the periodic sweeper) sends it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    WAITING = (Status.QUEUED, Status.SENDING)

    code = models.CharField(_("letter type"), max_length=80)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES)
    to = models.TextField(_("to"), blank=True, help_text=_("Comma-separated addresses."))
    cc = models.TextField(_("cc"), blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    text = models.TextField(_("plain text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now, db_index=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("sent by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.SENT)
    error = models.TextField(_("error"), blank=True)
    # What the letter is about (a borrowing request, a lending request, a hold…), whichever
    # app's model it is.
    content_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("about (type)"))
    object_id = models.PositiveBigIntegerField(_("about (id)"), null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True)
    # Delivery of a queued letter (as the ISO 18626 outbox's): when the broker took it, the
    # current attempt's claim (token and start) and how many attempts there were.
    queued_at = models.DateTimeField(null=True, blank=True)
    handed_to_broker_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("sent letter")
        verbose_name_plural = _("sent letters")
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"],
                                name="sentletter_about_idx"),
                   # The sweeper's look-up: only the few letters still waiting.
                   models.Index(fields=["queued_at"], name="sentletter_waiting_idx",
                                condition=models.Q(status__in=["queued", "sending"]))]

    def __str__(self):
        return f"{self.code} → {self.to or '-'}"

    @property
    def failed(self) -> bool:
        return self.status == self.Status.FAILED


class LetterAttachment(models.Model):
    """A file going with a queued letter, kept until the letter is sent."""

    letter = models.ForeignKey(SentLetter, on_delete=models.CASCADE,
                               related_name="waiting_attachments")
    filename = models.CharField(max_length=255)
    mimetype = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()

    class Meta:
        verbose_name = _("letter attachment")
        verbose_name_plural = _("letter attachments")

    def __str__(self):
        return self.filename
