"""Issue 16: an RS staff member opens each report, changes the range, downloads the CSV and
the XLSX, and finds the table's figures in both."""

import csv
import io

import pytest
from openpyxl import load_workbook

from reports.selectors import REPORTS
from tests.reports.conftest import quarter  # noqa: F401 - the hand-counted quarter

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _number(value):
    text = "" if value is None else str(value).strip()
    if text in ("", "—"):
        return ""
    try:
        return float(text.replace("\u00a0", "").replace(",", ""))
    except ValueError:
        return text


def _table(page):
    rows = page.locator("[data-testid=report-table] tbody tr").all()
    cells = [[_number(td) for td in row.locator("td").all_inner_texts()] for row in rows]
    return [] if cells and len(cells[0]) == 1 else cells  # "Nothing in this range."


def _download(page, testid) -> bytes:
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    with open(info.value.path(), "rb") as handle:
        return handle.read()


def test_each_report_changes_range_and_its_csv_and_xlsx_match_the_table(
        page, live_server, settings, quarter):  # noqa: F811
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    quarter.staff.set_password("browser-pw-16")
    quarter.staff.save()
    login(page, live_server, quarter.staff.username, "browser-pw-16")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statistics").click()
    for slug in REPORTS:
        page.goto(f"{live_server.url}/statistics/{slug}/")
        page.fill("#id_start", "2026-02-01")
        page.fill("#id_end", "2026-03-31")
        with page.expect_navigation():
            page.get_by_role("button", name="Show").click()
        assert "start=2026-02-01" in page.url
        table = _table(page)
        if slug in ("borrowing", "lending", "time-to-supply", "billing"):
            assert table, f"{slug}: nothing in February and March"
        if table and slug in ("borrowing", "lending", "loans", "articles"):
            assert {row[0] for row in table} <= {"2026-02", "2026-03"}
            assert page.locator(".report-chart svg").count() == 1

        rows = list(csv.reader(io.StringIO(
            _download(page, "download-csv").decode("utf-8-sig"))))
        assert [[_number(v) for v in row] for row in rows[1:]] == table, slug

        sheet = load_workbook(io.BytesIO(_download(page, "download-xlsx"))).active
        cells = list(sheet.iter_rows(values_only=True))
        assert [[_number(v) for v in row] for row in cells[1:]] == table, slug

    # February and March in the borrowing report: R3 twice, R4, R5, R6, R7.
    page.goto(f"{live_server.url}/statistics/borrowing/?start=2026-02-01&end=2026-03-31")
    assert sum(row[2] for row in _table(page)) == 6
