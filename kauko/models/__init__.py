"""The kernel's models: tenancy (institutions and their staff) and letters."""

from kauko.models.letters import LetterAttachment, LetterTemplate, SentLetter
from kauko.models.tenancy import (
    CODE_VALIDATOR,
    LANGUAGE_CHOICES,
    Institution,
    InstitutionScoped,
    InstitutionScopedQuerySet,
    StaffUser,
)

__all__ = [
    "CODE_VALIDATOR",
    "LANGUAGE_CHOICES",
    "Institution",
    "InstitutionScoped",
    "InstitutionScopedQuerySet",
    "LetterAttachment",
    "LetterTemplate",
    "SentLetter",
    "StaffUser",
]
