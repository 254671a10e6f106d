"""Letters to patrons and partners, and printable slips: one mechanism for every part of Kauko.

A letter type is registered in code by the app that sends it (`register_letter_type`, see
`kauko.letter_registry`) with
sample data for previews. Its wording comes from, in this order:

1. the institution's active `LetterTemplate` in the wanted language,
2. Kauko's default files in that language (`templates/letters/<language>/<code>.*`),
3. the same two in the institution's default language,
4. the same two in English.

Templates use Django's template language. The subject and the plain text are rendered
without HTML escaping (they are not HTML); the HTML version is escaped, so text a patron
typed cannot inject markup. A template without HTML gets one made from its plain text.

`send_letter` renders, sends through Django's e-mail backend and records a `SentLetter`
whatever happens: a letter that could not be sent is something staff must see, not an
exception in a background task nobody reads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
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
from kauko.models import LANGUAGE_CHOICES, LetterTemplate, SentLetter

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




def _render_part(source: str, context: dict, *, autoescape: bool) -> str:
    return compile_letter_part(source).render(Context(context, autoescape=autoescape))


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


def render_source(source: LetterSource, *, institution, context: dict) -> RenderedLetter:
    """Render a given wording (used by render_letter and by the admin's preview)."""
    context = {"institution": institution, **context}
    time_zone = getattr(institution, "time_zone", None) or settings.TIME_ZONE
    # The letter's language and the institution's clock, whoever happens to trigger it.
    with translation.override(source.language), timezone.override(time_zone):
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


def _addresses(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = re.split(r"[,;]", value)
    return [address.strip() for address in value if address and address.strip()]


def send_letter(*, institution, code: str, to, language: str | None = None, context: dict,
                about=None, sent_by=None, cc=(), attachments: Iterable = (),
                reply_to: str | None = None):
    """Render and send a letter, and record it. Returns the `SentLetter`.

    `to` and `cc` take an address, a comma-separated string or a list. `attachments` take
    (filename, content, mimetype) tuples or MIME objects. Never raises because sending
    failed: the SentLetter says "failed" and why.
    """
    letter_type(code)  # a wrong code is a programming error: fail loudly
    language = language or institution.default_language
    recipients, copies = _addresses(to), _addresses(cc)
    record = SentLetter(
        institution=institution, code=code, language=language, to=", ".join(recipients),
        cc=", ".join(copies),
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
        return record

    record.language, record.subject = letter.language, letter.subject
    record.text, record.html = letter.text, letter.html
    if not recipients:
        record.status, record.error = SentLetter.Status.FAILED, _("no e-mail address")
        record.save()
        return record

    message = EmailMultiAlternatives(
        subject=letter.subject, body=letter.text,
        from_email=institution.email or settings.DEFAULT_FROM_EMAIL,
        to=recipients, cc=copies, reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(letter.html, "text/html")
    for attachment in attachments:
        if isinstance(attachment, tuple | list):
            message.attach(*attachment)
        else:
            message.attach(attachment)
    try:
        message.send()
    except Exception as exc:  # SMTP refusals, network trouble, a misconfigured backend
        logger.exception("Letter %s to %s failed", code, record.to)
        record.status = SentLetter.Status.FAILED
        record.error = str(exc) or exc.__class__.__name__
    else:
        record.status = SentLetter.Status.SENT
    record.sent_at = timezone.now()
    record.save()
    return record


def letters_about(obj):
    """Letters sent about an object, newest first."""
    qs = SentLetter.objects.filter(content_type=ContentType.objects.get_for_model(obj),
                                   object_id=obj.pk)
    institution_id = getattr(obj, "institution_id", None)
    if institution_id is not None:
        qs = qs.filter(institution_id=institution_id)
    return qs.select_related("sent_by").order_by("-sent_at", "-pk")
