"""Slips the desk prints: a letter type rendered as a bare HTML fragment."""

from __future__ import annotations

import logging
import re

from django.template.loader import render_to_string

from kauko.letters import render_letter

logger = logging.getLogger(__name__)

def render_slip(*, code: str, institution, context: dict, language: str | None = None) -> str:
    """A printable slip (hold slip, return slip) as HTML, from the letter templates.

    `context` holds plain values only (`kauko.letter_sandbox`)."""
    try:
        rendered = render_letter(institution=institution, code=code,
                                 language=language or institution.default_language,
                                 context=context)
        body = _BODY.search(rendered.html or "")
        return body.group(1).strip() if body else (rendered.html or "")
    except LookupError:  # No letter type or template for it: print the desk's plain slip.
        logger.info("No %s letter for %s: printing the plain slip.", code, institution)
    except Exception:  # A broken institution template must not stop the scan.
        logger.exception("The %s letter of %s failed: printing the plain slip.", code,
                         institution)
    return render_to_string("circulation/slip_fallback.html", {"code": code, **context,
                                                               "institution": institution})


_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
