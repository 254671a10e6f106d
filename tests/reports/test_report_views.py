"""/statistics/: the RS office's reports of its own institution, as a page with a chart and a
table, and as CSV and XLSX with the same figures."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from ill.models import LendingRequest
from kauko import roles
from partners.models import Partner
from reports.selectors import REPORTS
from tests import factories as f

pytestmark = pytest.mark.django_db

QUARTER = {"start": "2026-01-01", "end": "2026-03-31"}


def _url(slug):
    return reverse("reports:report", args=[slug])


def _table(response):
    """The page's table as the context's plain values, stringified as the CSV has them."""
    return [["" if v is None else str(v) for v in row] for row in response.context["rows"]]


def _number(value):
    """A cell as a number when it is one (a spreadsheet keeps 100.0 as 100, 8.50 as 8.5)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


@pytest.fixture
def staff_client(client, quarter):
    client.force_login(quarter.staff)
    return client


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(_url("borrowing"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("role", [roles.CIRCULATION, roles.CONFIGURATION])
def test_desk_and_configuration_staff_may_not_see_statistics(client, inst, role):
    client.force_login(f.staff(inst, role))
    assert client.get(reverse("reports:index")).status_code == 403
    assert client.get(_url("borrowing")).status_code == 403
    assert client.get(_url("borrowing"), {"format": "csv"}).status_code == 403


def test_the_operator_of_no_institution_is_refused(client, db):
    operator = f.staff(None, role=None, is_superuser=True)
    client.force_login(operator)
    assert client.get(_url("borrowing")).status_code == 403


def test_the_index_lists_every_report(staff_client):
    response = staff_client.get(reverse("reports:index"))
    assert response.status_code == 200
    for slug in REPORTS:
        assert _url(slug).encode() in response.content


@pytest.mark.parametrize("slug", list(REPORTS))
def test_each_report_shows_a_chart_and_a_table_in_few_queries(staff_client, slug,
                                                              django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = staff_client.get(_url(slug), QUARTER)
    assert response.status_code == 200
    assert response.context["columns"]
    if response.context["rows"]:
        assert b"<svg" in response.content
        assert b"kozea.github.io" not in response.content  # no script from a CDN


@pytest.mark.parametrize("slug", list(REPORTS))
def test_csv_and_xlsx_have_the_tables_figures(staff_client, slug):
    page = staff_client.get(_url(slug), QUARTER)
    table = _table(page)
    headers = [c["label"] for c in page.context["columns"]]

    response = staff_client.get(_url(slug), {**QUARTER, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == headers
    assert rows[1:] == table

    response = staff_client.get(_url(slug), {**QUARTER, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == headers
    assert [[_number(v) for v in row] for row in cells[1:]] == \
        [[_number(v) for v in row] for row in table]


def test_the_borrowing_report_groups_as_asked_and_counts_only_the_users_institution(
        staff_client, quarter, client):
    response = staff_client.get(_url("borrowing"), {**QUARTER, "by": "region"})
    assert ["2026-02", "International", "2"] == _table(response)[2][:3]
    client.force_login(quarter.other_staff)
    theirs = client.get(_url("borrowing"), QUARTER)
    assert [row[:3] for row in _table(theirs)] == [["2026-01", "Alpha", "1"]]


def test_a_range_that_ends_before_it_starts_is_refused(staff_client):
    response = staff_client.get(_url("borrowing"), {"start": "2026-03-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert b"ends before it starts" in response.content
    response = staff_client.get(_url("borrowing"), {"start": "soon", "end": "2026-01-01",
                                                    "format": "csv"})
    assert response.status_code == 400


def test_an_unknown_report_is_not_found(staff_client):
    assert staff_client.get(_url("nonsense")).status_code == 404


def test_reports_answer_only_get(staff_client):
    assert staff_client.post(_url("borrowing"), QUARTER).status_code == 405


def test_without_a_range_the_last_year_is_shown(staff_client):
    response = staff_client.get(_url("lending"))
    assert response.status_code == 200
    assert response.context["form"].is_valid()


# --- billing -------------------------------------------------------------------------------------

@pytest.fixture
def priced(quarter):
    """Alpha charges 8.50 EUR per item, Beta 0.20 SEK per page; L1 (Alpha) shipped in January,
    L3 (Beta, pages 11-30) in March."""
    Partner.objects.filter(pk=quarter.alpha.pk).update(
        agreement=Partner.Agreement.PER_ITEM, price=Decimal("8.50"))
    Partner.objects.filter(pk=quarter.beta.pk).update(
        agreement=Partner.Agreement.PER_PAGE, price=Decimal("0.20"), currency="SEK")
    LendingRequest.objects.filter(institution=quarter.inst, partner=quarter.beta,
                                  shipped_at__isnull=False).update(pages="11-30")
    return quarter


def test_billing_sums_what_each_partner_owes_under_its_agreement(staff_client, priced):
    response = staff_client.get(_url("billing"), QUARTER)
    rows = {row[0]: row for row in _table(response)}
    # partner, agreement, price, currency, lent, pages lent, to invoice, borrowed, ...
    assert rows["Alpha"][4:7] == ["1", "0", "8.50"]
    assert rows["Beta"][4:7] == ["1", "20", "4.00"]
    # Supplied to us in the quarter: Alpha R1, R2; Beta R3, R4.
    assert rows["Alpha"][7] == "2" and rows["Alpha"][9] == "17.00"
    assert reverse("reports:invoice", args=[priced.alpha.pk]).encode() in response.content


def test_an_invoice_lists_each_item_lent_with_its_amount_and_the_total(staff_client, priced):
    url = reverse("reports:invoice", args=[priced.beta.pk])
    response = staff_client.get(url, QUARTER)
    assert response.status_code == 200
    invoice = response.context["invoice"]
    assert [(line["pages"], line["amount"]) for line in invoice["lines"]] == \
        [(20, Decimal("4.00"))]
    assert invoice["total"] == Decimal("4.00") and invoice["currency"] == "SEK"
    rows = list(csv.reader(io.StringIO(
        staff_client.get(url, {**QUARTER, "format": "csv"}).content.decode("utf-8-sig"))))
    assert rows[-1] == ["Total", "", "", "", "", "4.00", "SEK"]
    assert len(rows) == 3


def test_a_free_partner_is_invoiced_nothing(staff_client, quarter):
    Partner.objects.filter(pk=quarter.alpha.pk).update(agreement=Partner.Agreement.FREE)
    response = staff_client.get(reverse("reports:invoice", args=[quarter.alpha.pk]), QUARTER)
    assert response.context["invoice"]["total"] == Decimal("0.00")
    assert len(response.context["invoice"]["lines"]) == 1


def test_another_institutions_partner_has_no_invoice_here(client, quarter):
    client.force_login(quarter.other_staff)
    assert client.get(reverse("reports:invoice", args=[quarter.alpha.pk]),
                      QUARTER).status_code == 404


def test_a_price_is_required_for_a_priced_agreement(quarter):
    partner = quarter.alpha
    partner.agreement = Partner.Agreement.PER_PAGE
    with pytest.raises(ValidationError) as refused:
        partner.clean()
    assert "price" in refused.value.message_dict


def test_patron_fees_are_listed(staff_client, quarter):
    r1 = quarter.requests[0]
    type(r1).objects.filter(pk=r1.pk).update(patron_fee=Decimal("5.00"))
    response = staff_client.get(_url("patron-fees"), QUARTER)
    assert [row[0] for row in _table(response)] == [r1.number]
    assert _table(response)[0][-1] == "5.00"


def test_an_empty_currency_means_euros_and_codes_are_upper_case(quarter):
    partner = quarter.alpha
    partner.currency = ""
    partner.clean()
    assert partner.currency == "EUR"
    partner.currency = "sek"
    partner.clean()
    assert partner.currency == "SEK"
