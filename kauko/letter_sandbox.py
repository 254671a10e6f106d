"""The sandbox letter and slip templates render in.

Configuration admins write letter templates, so a template is untrusted code: it must see
the values built for its letter and nothing else. Two walls:

1. `plain()` turns the context into plain, read-only values (strings, numbers, dates,
   booleans, None, and mappings and tuples of them). A model instance, a queryset or any
   other object is refused with `LetterContextError`: the code sending a letter builds the
   values the letter needs (`kauko.letters.letter_institution`, `patrons.letters`,
   `partners.letters`, `fulfillment.letters`, …), so no template can walk from a patron to
   its institution's staff accounts, their password hashes or the admin log.
2. `SANDBOX` is a template engine of its own: Django's filters and tags without `{% debug %}`
   (which prints the context and the loaded modules) and without template loading
   (`{% include %}`, `{% extends %}`), and only the `i18n`, `l10n` and `tz` libraries to
   `{% load %}`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType, SimpleNamespace
from typing import Any

from django.template import Engine, Library, defaultfilters, defaulttags
from django.utils.functional import Promise

# --- the engine ---------------------------------------------------------------------------------

_REFUSED_TAGS = {"debug"}

# The engine's one built-in library (the engine imports this module for it).
register = Library()
register.tags.update(
    {name: tag for name, tag in defaulttags.register.tags.items() if name not in _REFUSED_TAGS})
register.filters.update(defaultfilters.register.filters)


class _SandboxEngine(Engine):
    # Not Django's defaulttags/defaultfilters/loader_tags: only this module's library.
    default_builtins = []


SANDBOX = _SandboxEngine(
    dirs=[], app_dirs=False, loaders=[], debug=False, string_if_invalid="",
    builtins=[__name__],
    libraries={"i18n": "django.templatetags.i18n", "l10n": "django.templatetags.l10n",
               "tz": "django.templatetags.tz"},
)


def compile_template(source: str):
    """Compile a letter template in the sandbox (raises TemplateSyntaxError)."""
    return SANDBOX.from_string(source)


# --- the values ---------------------------------------------------------------------------------


class LetterContextError(TypeError):
    """A letter was given something other than plain values: a programming error."""


_SCALARS = (bool, int, float, Decimal, datetime.date, datetime.datetime, datetime.time,
            datetime.timedelta, type(None))
_MAX_DEPTH = 12


def plain(value: Any, path: str = "context", _depth: int = 0) -> Any:
    """`value` as plain read-only values a template may see, or LetterContextError.

    Mappings become read-only mappings, sequences tuples, dataclasses and SimpleNamespaces
    mappings of their fields; lazy translations are translated now (call it in the
    letter's language)."""
    if _depth > _MAX_DEPTH:
        raise LetterContextError(f"Letter context value {path} is nested too deep.")
    if isinstance(value, Promise | str):
        return str.__str__(str(value))  # an exact str: no subclass's extra attributes
    if type(value) in _SCALARS:
        return value
    if isinstance(value, int):  # IntegerChoices and the like: the number itself
        return int(value)
    if isinstance(value, float | Decimal | datetime.date | datetime.time | datetime.timedelta):
        return value
    if isinstance(value, SimpleNamespace):
        value = vars(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return MappingProxyType({
            str(key): plain(item, f"{path}.{key}", _depth + 1) for key, item in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(plain(item, f"{path}.{i}", _depth + 1) for i, item in enumerate(value))
    raise LetterContextError(
        f"Letter context value {path} is a {type(value).__module__}.{type(value).__name__}: "
        f"letters get plain values built for them (strings, numbers, dates, mappings), "
        f"never model instances or querysets.")
