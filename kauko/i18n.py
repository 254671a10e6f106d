"""Texts that are written now and read later, in the reader's language.

A history note is stored when something happens, often by a job or a partner's message with
no one's language active, and read later by staff working in Finnish, Swedish or English.
`gettext` here works as Django's, but remembers what it translated: the result is a `str`
(in the active language, as before) that also carries its catalogue text and arguments, so
the history can store them (`i18n_spec`) and show the note in each reader's language
(`i18n_render`). Modules whose messages end up in the history import `_` from here.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _gettext


class Remembered(str):
    """A translated text that knows its catalogue text and arguments."""

    msgid: str
    params: dict[str, str] | None

    def __new__(cls, text: str, msgid: str | None = None,
                params: dict[str, str] | None = None):
        obj = super().__new__(cls, text)
        obj.msgid, obj.params = (text if msgid is None else msgid), params
        return obj

    def __getnewargs__(self):  # copy, deepcopy and pickle (e-mail, sessions) keep it whole
        return str(self), self.msgid, self.params

    def __mod__(self, params: Any) -> str:
        if not isinstance(params, dict) or self.params is not None:
            return str.__mod__(str(self), params)
        # Arguments are kept as the text they read as now (names, numbers, dates already
        # written out); a translated argument is itself remembered, and rendered again.
        kept = {key: (i18n_spec(value) or str(value)) for key, value in params.items()}
        return Remembered(str.__mod__(str(self), params), self.msgid, kept)


def gettext(message: str) -> Remembered:
    return Remembered(_gettext(message), message)


def i18n_spec(text: Any) -> dict | None:
    """What to store to show `text` again in another language (None: a plain text)."""
    if isinstance(text, Remembered):
        return {"msgid": text.msgid, "params": text.params}
    return None


def i18n_render(spec: dict | None, fallback: str) -> str:
    """The stored text in the active language; `fallback` (the text as first written) when
    the spec is missing or no longer fits its catalogue text."""
    if not spec or not isinstance(spec, dict) or not spec.get("msgid"):
        return fallback
    try:
        text = _gettext(spec["msgid"])
        params = spec.get("params")
        if params is None:
            return text
        values = {key: i18n_render(value, "") if isinstance(value, dict) else value
                  for key, value in params.items()}
        return text % values
    except (KeyError, TypeError, ValueError):
        return fallback
