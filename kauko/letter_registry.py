"""The letter types Kauko knows: each app registers the letters it sends (code, name, who
reads it, sample data for previews) from its AppConfig.ready(). Below the models, so a
letter template can be checked against the registry when it is saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kauko.letter_sandbox import compile_template

AUDIENCES = ("patron", "partner", "staff")


class UnknownLetterType(LookupError):
    pass


@dataclass(frozen=True)
class LetterType:
    code: str
    name: str
    description: str
    audience: str
    sample_context: Callable[[], dict]
    is_slip: bool = False

    def context_names(self) -> list[str]:
        """The names a template of this type may use (for the admin's help page)."""
        return sorted({"institution", *self.sample_context()})


_registry: dict[str, LetterType] = {}


def register_letter_type(code: str, *, name, description, audience: str,
                         sample_context: Callable[[], dict], is_slip: bool = False) -> LetterType:
    if audience not in AUDIENCES:
        raise ValueError(f"Letter type {code!r}: audience must be one of {AUDIENCES}.")
    if code in _registry:
        # Two apps claiming one code would silently share (or steal) each other's wording.
        raise ValueError(f"Letter type {code!r} is already registered.")
    _registry[code] = LetterType(code=code, name=name, description=description,
                                 audience=audience, sample_context=sample_context,
                                 is_slip=is_slip)
    return _registry[code]


def letter_types() -> list[LetterType]:
    return list(_registry.values())


def letter_type(code: str) -> LetterType:
    try:
        return _registry[code]
    except KeyError:
        raise UnknownLetterType(
            _("Unknown letter type “%(code)s”.") % {"code": code}) from None


def compile_letter_part(source: str):
    """Compile a template string in the letters' sandbox engine (`kauko.letter_sandbox`)."""
    return compile_template(source)
