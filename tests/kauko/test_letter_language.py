"""A letter reads wholly in its own language: the labels its context carries (a request's
type, an article's "In:") follow the recipient's language, not that of the staff member
whose action sent it."""

import pytest
from django.utils import translation

from ill.borrowing.services import borrowing_request_send
from kauko.models import SentLetter
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language, type_label, english", [
    ("fi", "Pyynnön tyyppi: Fyysinen laina", "Physical loan"),
    ("sv", "Fysiskt lån", "Physical loan"),
])
def test_a_letter_to_a_partner_names_the_request_type_in_the_partners_language(
    inst, setup, partner, rs_staff, language, type_label, english,
):
    partner.language = language
    partner.save()
    request = f.borrowing_request(inst, setup=setup, partners=[partner])
    with translation.override("en"):  # the staff member works in English
        borrowing_request_send(request=request, user=rs_staff)
    letter = SentLetter.objects.get(code="borrowing_request_to_partner")
    assert letter.language == language
    assert type_label in letter.text
    assert english not in letter.text
