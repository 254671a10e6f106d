"""Letters to patrons and partners, and printable slips: one mechanism for every part of Kauko.

A letter type is registered in code by the app that sends it (`register_letter_type`, see
`kauko.letter_registry`) with
sample data for previews. Its wording comes from, in this order:

1. the institution's active `LetterTemplate` in the wanted language,
2. Kauko's default files in that language (`templates/letters/<language>/<code>.*`),
3. the same two in the institution's default language,
4. the same two in English.

Templates use Django's template language in a sandbox (`kauko.letter_sandbox`): they get
plain values built for the letter, never model instances or querysets, and an engine without
tags that reach beyond them, because configuration admins write them. The subject and the plain text are rendered
without HTML escaping (they are not HTML); the HTML version is escaped, so text a patron
typed cannot inject markup. A template without HTML gets one made from its plain text.

`send_letter` renders, sends through Django's e-mail backend and records a `SentLetter`
whatever happens: a letter that could not be sent is something staff must see, not an
exception in a background task nobody reads. `queue_letter` is the durable way for letters
a change of state sends: the rendered letter is kept, in the change's transaction, and sent
by a task after commit, or by the sweeper if the broker never took it.
"""

from __future__ import annotations

import datetime
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template import Context
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks, urlize
from django.utils.translation import gettext as _

from kauko.letter_registry import (  # noqa: F401 (re-exported: callers use kauko.letters)
    AUDIENCES,
    LetterType,
    UnknownLetterType,
    compile_letter_part,
    letter_type,
    letter_types,
    register_letter_type,
)
from kauko.letter_sandbox import LetterContextError, plain  # noqa: F401 (re-exported)
from kauko.models import LANGUAGE_CHOICES, LetterAttachment, LetterTemplate, SentLetter

logger = logging.getLogger(__name__)

LANGUAGES = [code for code, _label in LANGUAGE_CHOICES]
FALLBACK_LANGUAGE = "en"
DEFAULTS_DIR = Path(settings.BASE_DIR) / "templates" / "letters"


class LetterTemplateMissing(LookupError):
    pass


# --- finding the wording -------------------------------------------------------------------


@dataclass(frozen=True)
class LetterSource:
    subject: str
    text: str
    html: str
    language: str
    origin: str  # "institution" or "default"


def default_template(code: str, language: str) -> LetterSource | None:
    """Kauko's shipped wording, or None when this language has no default files."""
    if language not in LANGUAGES:
        return None
    base = DEFAULTS_DIR / language
    subject, text, html = (base / f"{code}.subject.txt", base / f"{code}.txt",
                           base / f"{code}.html")
    if not subject.is_file() or not text.is_file():
        return None
    return LetterSource(
        subject=subject.read_text(encoding="utf-8"), text=text.read_text(encoding="utf-8"),
        html=html.read_text(encoding="utf-8") if html.is_file() else "",
        language=language, origin="default")


def _institution_template(institution, code: str, language: str) -> LetterSource | None:
    if institution is None or getattr(institution, "pk", None) is None:
        return None
    t = LetterTemplate.objects.filter(institution=institution, code=code, language=language,
                                      active=True).first()
    if t is None:
        return None
    return LetterSource(subject=t.subject, text=t.text, html=t.html, language=language,
                        origin="institution")


def find_template(*, institution, code: str, language: str | None) -> LetterSource:
    letter_type(code)
    languages = [language, getattr(institution, "default_language", None), FALLBACK_LANGUAGE]
    tried = []
    for lang in languages:
        if not lang or lang in tried:
            continue
        tried.append(lang)
        source = _institution_template(institution, code, lang) or default_template(code, lang)
        if source is not None:
            return source
    raise LetterTemplateMissing(f"No template for letter {code!r} in {tried}.")


# --- rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedLetter:
    subject: str
    text: str
    html: str
    language: str
    origin: str = "default"




def _render_part(source: str, context, *, autoescape: bool) -> str:
    return compile_letter_part(source).render(Context(dict(context), autoescape=autoescape))


_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _tidy_text(text: str) -> str:
    # {% if %} blocks leave empty lines behind; keep paragraphs, drop the surplus.
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def text_to_html(text: str) -> str:
    """A simple HTML body from plain text: escaped, paragraphs kept, links clickable."""
    return linebreaks(urlize(text, autoescape=True), autoescape=False)


def _html_document(body: str, *, subject: str, language: str) -> str:
    if body.lstrip()[:14].lower().startswith(("<!doctype", "<html")):
        return body
    return (f'<!DOCTYPE html>\n<html lang="{language}">\n<head><meta charset="utf-8">'
            f"<title>{escape(subject)}</title></head>\n<body>\n{body.strip()}\n</body>\n"
            f"</html>\n")


def letter_institution(institution) -> dict:
    """The institution as letters see it."""
    return {"name": getattr(institution, "name", ""), "code": getattr(institution, "code", ""),
            "email": getattr(institution, "email", "")}


def render_source(source: LetterSource, *, institution, context: dict) -> RenderedLetter:
    """Render a given wording (used by render_letter and by the admin's preview).

    `context` holds plain values only (see `kauko.letter_sandbox.plain`); anything else
    raises LetterContextError."""
    time_zone = getattr(institution, "time_zone", None) or settings.TIME_ZONE
    # The letter's language and the institution's clock, whoever happens to trigger it.
    with translation.override(source.language), timezone.override(time_zone):
        context = plain({**context, "institution": letter_institution(institution)})
        subject = " ".join(_render_part(source.subject, context, autoescape=False).split())
        text = _tidy_text(_render_part(source.text, context, autoescape=False))
        if source.html.strip():
            body = _render_part(source.html, context, autoescape=True)
        else:
            body = text_to_html(text)
    html = _html_document(body, subject=subject, language=source.language)
    return RenderedLetter(subject=subject, text=text, html=html, language=source.language,
                          origin=source.origin)


def render_letter(*, institution, code: str, language: str | None,
                  context: dict) -> RenderedLetter:
    source = find_template(institution=institution, code=code, language=language)
    return render_source(source, institution=institution, context=context)


def preview_letter(*, institution, code: str, language: str | None) -> RenderedLetter:
    """The letter rendered with its type's sample data."""
    return render_letter(institution=institution, code=code, language=language,
                         context=letter_type(code).sample_context())


# --- sending -------------------------------------------------------------------------------
#
# A letter is sent in one of two ways. `send_letter` sends it now and records it.
# `queue_letter` is the durable way, the one a change of state uses: in the caller's
# transaction it renders the letter and keeps it as a `SentLetter` "queued" (with its
# attachments); after commit a task (`kauko.deliver_letter`) sends it, and the periodic
# sweeper (`kauko.sweep_letters`) sends whatever the broker never took or a worker left
# half-sent. Each attempt claims the row with a fresh token and records its result only
# while it still holds that claim, so a letter goes out once however often it is handed
# over.

DELIVER_LETTER_TASK = "kauko.deliver_letter"


def letter_claim_lease() -> float:
    """Seconds an attempt holds a queued letter; after that another may take it over."""
    return float(getattr(settings, "LETTER_CLAIM_LEASE_SECONDS", 600))


def letter_max_attempts() -> int:
    return int(getattr(settings, "LETTER_MAX_ATTEMPTS", 5))


def _addresses(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = re.split(r"[,;]", value)
    return [address.strip() for address in value if address and address.strip()]


def letter_language(*, institution, language: str | None) -> str:
    """The language a letter is written in: the recipient's, else the institution's.
    Build the letter's context under `translation.override(letter_language(...))`, so the
    labels it carries (a request's type, a citation's "In:") read in the letter's language,
    not in the language of whoever's action sent it."""
    return language or institution.default_language


def _prepare(*, institution, code: str, to, language: str | None, context: dict, about,
             sent_by, cc, reply_to: str | None) -> tuple[SentLetter, bool]:
    """The letter's record, rendered. (record, False) when it cannot be sent: the record
    is then saved as failed, with the reason."""
    letter_type(code)  # a wrong code is a programming error: fail loudly
    language = letter_language(institution=institution, language=language)
    recipients, copies = _addresses(to), _addresses(cc)
    record = SentLetter(
        institution=institution, code=code, language=language, to=", ".join(recipients),
        cc=", ".join(copies), reply_to=reply_to or "",
        sent_by=sent_by if getattr(sent_by, "pk", None) else None,
    )
    if about is not None:
        record.content_type = ContentType.objects.get_for_model(about)
        record.object_id = about.pk

    try:
        letter = render_letter(institution=institution, code=code, language=language,
                               context=context)
    except Exception as exc:  # an institution's template that breaks on real data
        logger.exception("Letter %s for %s could not be rendered", code, institution)
        record.status, record.error = SentLetter.Status.FAILED, _(
            "The letter could not be rendered: %(error)s") % {"error": exc}
        record.save()
        return record, False

    # A template may make a subject longer than the column (PostgreSQL refuses it): cut.
    subject_max = SentLetter._meta.get_field("subject").max_length
    record.language, record.subject = letter.language, letter.subject[:subject_max]
    record.text, record.html = letter.text, letter.html
    if not recipients:
        record.status, record.error = SentLetter.Status.FAILED, _("no e-mail address")
        record.save()
        return record, False
    return record, True


def _email(record: SentLetter, attachments: Iterable = ()) -> EmailMultiAlternatives:
    """The e-mail of a rendered letter."""
    message = EmailMultiAlternatives(
        subject=record.subject, body=record.text,
        from_email=record.institution.email or settings.DEFAULT_FROM_EMAIL,
        to=_addresses(record.to), cc=_addresses(record.cc),
        reply_to=[record.reply_to] if record.reply_to else None,
    )
    message.attach_alternative(record.html, "text/html")
    for attachment in attachments:
        if isinstance(attachment, tuple | list):
            message.attach(*attachment)
        else:
            message.attach(attachment)
    return message


def _send(message: EmailMultiAlternatives, record: SentLetter) -> tuple[str, str]:
    """Send; (status, error) for the record. Never raises."""
    try:
        message.send()
    except Exception as exc:  # SMTP refusals, network trouble, a misconfigured backend
        logger.exception("Letter %s to %s failed", record.code, record.to)
        return SentLetter.Status.FAILED, str(exc) or exc.__class__.__name__
    return SentLetter.Status.SENT, ""


def send_letter(*, institution, code: str, to, language: str | None = None, context: dict,
                about=None, sent_by=None, cc=(), attachments: Iterable = (),
                reply_to: str | None = None):
    """Render and send a letter now, and record it. Returns the `SentLetter`.

    `to` and `cc` take an address, a comma-separated string or a list. `attachments` take
    (filename, content, mimetype) tuples or MIME objects. Never raises because sending
    failed: the SentLetter says "failed" and why. A change of state queues its letters
    with `queue_letter` instead, so that they survive the broker being down.
    """
    record, ok = _prepare(institution=institution, code=code, to=to, language=language,
                          context=context, about=about, sent_by=sent_by, cc=cc,
                          reply_to=reply_to)
    if not ok:
        return record
    record.status, record.error = _send(_email(record, attachments), record)
    record.sent_at = timezone.now()
    record.save()
    return record


def queue_letter(*, institution, code: str, to, language: str | None = None, context: dict,
                 about=None, sent_by=None, cc=(), attachments: Iterable = (),
                 reply_to: str | None = None) -> SentLetter:
    """Render a letter and keep it to be sent once the caller's transaction commits.

    Call it inside the transaction of the change the letter reports: the letter exists
    exactly when the change does, and is sent even if the broker is down at commit (the
    sweeper sends it later). Arguments as `send_letter`'s; attachments are (filename,
    content, mimetype) tuples. Returns the `SentLetter`, "queued" (or "failed" when it
    could not be rendered or has no address)."""
    files = []
    for attachment in attachments:
        if not isinstance(attachment, tuple | list):
            raise TypeError("queue_letter takes attachments as (filename, content, mimetype)")
        filename, content, mimetype = (*attachment, None)[:3]
        if isinstance(content, str):
            content = content.encode("utf-8")
        files.append(LetterAttachment(filename=filename, content=content,
                                      mimetype=mimetype or ""))
    record, ok = _prepare(institution=institution, code=code, to=to, language=language,
                          context=context, about=about, sent_by=sent_by, cc=cc,
                          reply_to=reply_to)
    if not ok:
        return record
    record.status = SentLetter.Status.QUEUED
    record.queued_at = record.sent_at = timezone.now()
    record.save()
    for file in files:
        file.letter = record
    LetterAttachment.objects.bulk_create(files)
    letter_id = record.pk
    transaction.on_commit(lambda: hand_letter_to_broker(letter_id))
    return record


def hand_letter_to_broker(letter_id: int) -> bool:
    """Queue the sending of a letter; note when the broker took it (the sweeper looks for
    letters it never took). Never raises: the broker being down must not break the caller,
    and the letter is safe in the database."""
    try:
        current_app.tasks[DELIVER_LETTER_TASK].apply_async(args=[letter_id])
    except Exception:
        logger.exception("Could not hand letter %s to the broker; the letter sweeper will "
                         "send it.", letter_id)
        return False
    SentLetter.objects.filter(pk=letter_id, handed_to_broker_at__isnull=True).update(
        handed_to_broker_at=timezone.now())
    return True


def _stale_before():
    return timezone.now() - datetime.timedelta(seconds=letter_claim_lease())


def deliver_letter(letter_id: int) -> bool:
    """Send one queued letter (the task's work). True when this call sent it; False when
    there was nothing to do (sent already, being sent by another worker) or it failed.

    The claim is one UPDATE: queued, or a claim that went stale (its worker died) with
    attempts left. The result is recorded only while the claim is still this call's."""
    token = secrets.token_hex(16)
    now = timezone.now()
    waiting = SentLetter.objects.filter(pk=letter_id)
    claimed = waiting.filter(
        Q(status=SentLetter.Status.QUEUED)
        | Q(status=SentLetter.Status.SENDING, sending_since__lt=_stale_before(),
            attempts__lt=letter_max_attempts())
    ).update(status=SentLetter.Status.SENDING, sending_since=now, claim=token,
             attempts=F("attempts") + 1)
    if not claimed:
        return False
    record = SentLetter.objects.select_related("institution").get(pk=letter_id)
    files = [(a.filename, bytes(a.content), a.mimetype or None)
             for a in record.waiting_attachments.all()]
    status, error = _send(_email(record, files), record)
    with transaction.atomic():
        held = waiting.filter(status=SentLetter.Status.SENDING, claim=token).update(
            status=status, error=error, sent_at=timezone.now())
        if held and status == SentLetter.Status.SENT:
            LetterAttachment.objects.filter(letter_id=letter_id).delete()
    return bool(held) and status == SentLetter.Status.SENT


def sweep_letters() -> int:
    """Hand to the broker every queued letter not on its way: never handed over (the
    broker was down at commit), lost by the broker, or left half-sent by a worker that
    died. A letter whose every attempt died is marked failed. Returns how many were
    handed over."""
    now = timezone.now()
    eager = bool(current_app.conf.task_always_eager)
    # With a broker, give the on-commit hand-over, and a busy queue, time to happen.
    settle = datetime.timedelta(seconds=0 if eager else 60)
    lost = datetime.timedelta(seconds=0 if eager else 15 * 60)
    SentLetter.objects.filter(
        status=SentLetter.Status.SENDING, sending_since__lt=_stale_before(),
        attempts__gte=letter_max_attempts(),
    ).update(status=SentLetter.Status.FAILED,
             error=_("Sending was interrupted at every attempt."))
    due = SentLetter.objects.filter(
        Q(status=SentLetter.Status.QUEUED)
        & (Q(handed_to_broker_at__isnull=True, queued_at__lte=now - settle)
           | Q(handed_to_broker_at__lte=now - lost))
        | Q(status=SentLetter.Status.SENDING, sending_since__lt=_stale_before()))
    letter_ids = list(due.order_by("queued_at", "pk").values_list("pk", flat=True))
    for letter_id in letter_ids:
        hand_letter_to_broker(letter_id)
    return len(letter_ids)


def letters_about(obj):
    """Letters sent about an object, newest first."""
    qs = SentLetter.objects.filter(content_type=ContentType.objects.get_for_model(obj),
                                   object_id=obj.pk)
    institution_id = getattr(obj, "institution_id", None)
    if institution_id is not None:
        qs = qs.filter(institution_id=institution_id)
    return qs.select_related("sent_by").order_by("-sent_at", "-pk")
