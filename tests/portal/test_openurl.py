from urllib.parse import unquote

import pytest
from django.http import QueryDict

from portal.openurl import parse_openurl
from tests import factories as f
from tests.portal.conftest import PIN

# As Primo VE sends an article (OpenURL 1.0 KEV).
PRIMO_ARTICLE = (
    "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rfr_id=info:sid/primo.exlibrisgroup.com"
    "&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=article"
    "&rft.atitle=Deep%20learning&rft.jtitle=Nature&rft.aulast=LeCun&rft.aufirst=Yann"
    "&rft.date=2015-05-28&rft.volume=521&rft.issue=7553&rft.spage=436&rft.epage=444"
    "&rft.issn=0028-0836&rft_id=info:doi/10.1038/nature14539&rft_id=info:pmid/26017442"
)
# As Finna sends a book.
FINNA_BOOK = (
    "url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&ctx_enc=info%3Aofi%2Fenc%3AUTF-8"
    "&rfr_id=info%3Asid%2Ffinna.fi%3Agenerator&rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Abook"
    "&rft.genre=book&rft.btitle=Tuntematon+sotilas&rft.au=Linna%2C+V%C3%A4in%C3%B6"
    "&rft.pub=WSOY&rft.date=2000&rft.isbn=951-0-24712-6"
)
OPENURL_01 = ("sid=google&genre=article&atitle=A%20study&title=Journal%20of%20Tests"
              "&issn=1234-5678&aulast=Smith&aufirst=J&date=2019&volume=12&issue=3&spage=45"
              "&id=doi:10.1234/abc")


def test_primo_ve_article_kev_is_read_into_an_article_request():
    fields = parse_openurl(QueryDict(PRIMO_ARTICLE))
    assert fields == {
        "request_type": "article", "title": "Nature", "article_title": "Deep learning",
        "article_author": "LeCun, Yann", "year": "2015", "volume": "521", "issue": "7553",
        "pages": "436-444", "issn": "0028-0836", "doi": "10.1038/nature14539",
        "pmid": "26017442"}


def test_finna_book_kev_is_read_into_a_loan():
    fields = parse_openurl(QueryDict(FINNA_BOOK))
    assert fields == {"request_type": "loan", "title": "Tuntematon sotilas",
                      "author": "Linna, Väinö", "publisher": "WSOY", "year": "2000",
                      "isbn": "9510247126"}


def test_openurl_0_1_keys_are_read_too():
    fields = parse_openurl(QueryDict(OPENURL_01))
    assert fields["request_type"] == "article"
    assert (fields["title"], fields["article_title"], fields["article_author"]) == (
        "Journal of Tests", "A study", "Smith, J")
    assert (fields["issn"], fields["year"], fields["pages"], fields["doi"]) == (
        "1234-5678", "2019", "45", "10.1234/abc")


def test_a_book_chapter_is_a_chapter_request():
    fields = parse_openurl(QueryDict(
        "url_ver=Z39.88-2004&rft.genre=bookitem&rft.btitle=Handbook&rft.atitle=Chapter%20one"
        "&rft_id=urn:ISBN:978-0-12-345678-9&rft.pages=10-20"))
    assert fields["request_type"] == "chapter"
    assert (fields["title"], fields["article_title"], fields["isbn"], fields["pages"]) == (
        "Handbook", "Chapter one", "9780123456789", "10-20")


def test_unknown_and_malformed_keys_are_dropped():
    fields = parse_openurl(QueryDict(
        "url_ver=Z39.88-2004&rft.genre=%%%&rft.title=Ok&rft.date=someday&rft.issn=nonsense"
        "&rft_id=info:doi/&foo=bar&rft.isbn=" + "9" * 300))
    assert fields["title"] == "Ok"
    assert "year" not in fields and "issn" not in fields and "doi" not in fields
    assert len(fields["isbn"]) == 20


@pytest.mark.django_db
def test_openurl_sends_a_stranger_to_sign_in_and_then_to_the_prefilled_form(anonymous,
                                                                           patron):
    to_form = anonymous.get("/openurl?" + PRIMO_ARTICLE)
    assert to_form.status_code == 302 and to_form["Location"].startswith("/my/request/?")
    to_sign_in = anonymous.get(to_form["Location"])
    assert to_sign_in["Location"].startswith("/my/sign-in/?next=")
    next_url = unquote(to_sign_in["Location"].split("next=", 1)[1])
    signed = anonymous.post("/my/sign-in/", {"institution": patron.institution_id,
                                             "card": patron.barcode, "pin": PIN,
                                             "next": next_url})
    form = anonymous.get(signed["Location"]).content.decode()
    assert 'value="Deep learning"' in form and 'value="10.1038/nature14539"' in form
    assert 'value="article" id="id_request_type_1" required checked' in form


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "rft.title=%ff%fe", "genre=&&&&=", "url_ver=x&rft_id=",
                                   "rft.date=" + "2" * 5000, "title[]=a&title=b"])
def test_a_strange_openurl_is_never_an_error_page(signed_in, query):
    response = signed_in.get("/openurl?" + query, follow=True)
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_prefilled_form_says_the_checks_before_the_patron_asks(signed_in, setup):
    f.item(setup.stacks, title="Tuntematon sotilas", barcodes=("OWN1",))
    page = signed_in.get("/openurl?" + FINNA_BOOK, follow=True).content.decode()
    assert 'data-testid="intake-checks"' in page
    assert "Our library has a copy on the shelf" in page
