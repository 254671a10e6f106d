"""A report as CSV, XLSX and an SVG chart: the same figures as the page's table."""

from __future__ import annotations

import csv
import io
import math

import pygal
from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from pygal.style import Style

from reports.selectors import Report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(report: Report, period, extension: str) -> str:
    return f"{report.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{extension}"


def as_csv(report: Report, period) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = \
        f'attachment; filename="{_filename(report, period, "csv")}"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow([str(c.label) for c in report.columns])
    for values in report.values():
        writer.writerow(["" if v is None else v for v in values])
    return response


def as_xlsx(report: Report, period) -> HttpResponse:
    book = Workbook()
    sheet = book.active
    sheet.title = report.slug[:31]
    sheet.append([str(c.label) for c in report.columns])
    for values in report.values():
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = \
        f'attachment; filename="{_filename(report, period, "xlsx")}"'
    return response


STYLE = Style(background="transparent", plot_background="transparent",
              font_family="system-ui, sans-serif",
              colors=("#2f5d8a", "#3c9d5d", "#c0504d", "#8a6d3b", "#6f4e9c"))


def chart_svg(report: Report) -> str:
    """A bar chart of the report's chart series, one group per row; inline SVG markup
    without pygal's script (it would come from a CDN)."""
    labels = {c.key: str(c.label) for c in report.columns}
    chart = pygal.Bar(style=STYLE, js=[], disable_xml_declaration=True, height=320,
                      width=900, legend_at_bottom=True, x_label_rotation=30,
                      print_values=False, show_y_guides=True, explicit_size=False)
    chart.x_labels = [" · ".join(str(row.get(k) or "") for k in report.chart_label)
                      for row in report.rows]
    for key in report.chart_series:
        chart.add(labels.get(key, key), [row.get(key) for row in report.rows])
    kinds = {c.key: c.kind for c in report.columns}
    if all(kinds.get(key) == "int" for key in report.chart_series):
        # Counts: whole numbers on the axis, not 0.2 steps.
        top = max((row.get(key) or 0 for row in report.rows for key in report.chart_series),
                  default=0)
        step = max(1, math.ceil(top / 10))
        chart.y_labels = list(range(0, top + step, step))
    return chart.render(is_unicode=True)


def invoice_csv(invoice: dict, period, *, partner_code: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="invoice-{partner_code}-'
                                       f'{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"')
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Request"), _("Their request"), _("Title"), _("Shipped"), _("Pages"),
                     _("Amount"), _("Currency")])
    for line in invoice["lines"]:
        writer.writerow([line["number"], line["their_number"], line["title"],
                         line["shipped"].isoformat(), line["pages"], line["amount"],
                         invoice["currency"]])
    writer.writerow([_("Total"), "", "", "", "", invoice["total"], invoice["currency"]])
    return response
