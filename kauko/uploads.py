"""The cap on uploaded files (`KAUKO_MAX_UPLOAD_BYTES`), said in every upload field.

`UploadField` refuses a file over the cap with the reason; `UploadSizeMiddleware` answers 413
to a multipart request whose body is far over it before Django reads it to disk, so nobody
fills the server's temporary space with one post.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# What a form adds around the file (its other fields, boundaries): a body this much over the
# cap still reaches the form, which then says what was wrong.
FORM_OVERHEAD_BYTES = 256 * 1024


def max_upload_bytes() -> int:
    return int(settings.KAUKO_MAX_UPLOAD_BYTES)


def _said_limit(help_text: str) -> str:
    limit = _("At most %(limit)s.") % {"limit": filesizeformat(max_upload_bytes())}
    return f"{help_text} {limit}".strip()


_limit_text = lazy(_said_limit, str)


class UploadField(forms.FileField):
    """A file field that refuses files over `KAUKO_MAX_UPLOAD_BYTES` and says the limit."""

    default_error_messages = {
        "too_large": gettext_lazy("The file is too large (%(size)s): at most %(limit)s."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Lazy: said in the language and with the setting of the moment it is shown.
        self.help_text = _limit_text(str(self.help_text or ""))

    def validate(self, value):
        super().validate(value)
        if value and value.size > max_upload_bytes():
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large",
                                        params={"size": filesizeformat(value.size),
                                                "limit": filesizeformat(max_upload_bytes())})


class UploadSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > max_upload_bytes() + FORM_OVERHEAD_BYTES:
                return HttpResponse(
                    _("The upload is too large: at most %(limit)s.") % {
                        "limit": filesizeformat(max_upload_bytes())},
                    status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
