from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from kauko.access import require_perm, staff_institution
from partners.models import Partner
from reports import exports, selectors
from reports.forms import PeriodForm
from reports.selectors import REPORTS, default_period

# Statistics are the RS office's: the desk and configuration admins only read ILL.
REPORT_PERMS = ("ill.change_borrowingrequest", "ill.change_lendingrequest")


def reports_institution(request):
    """The institution whose figures the user may see, or 403."""
    institution = staff_institution(request)
    require_perm(request, *REPORT_PERMS)
    return institution


def _period_form(request, dimensions=None) -> PeriodForm:
    default = default_period()
    data = request.GET.copy()
    data.setdefault("start", default.start.isoformat())
    data.setdefault("end", default.end.isoformat())
    if dimensions:
        data.setdefault("by", next(iter(dimensions)))
    return PeriodForm(data, dimensions=dimensions)


def _query_without_format(request) -> str:
    query = request.GET.copy()
    query.pop("format", None)
    return query.urlencode()


@login_required
@require_GET
def report_index(request):
    reports_institution(request)
    return render(request, "reports/index.html", {
        "reports": [{"slug": d.slug, "title": str(d.title)} for d in REPORTS.values()],
    })


@login_required
@require_GET
def report_view(request, slug: str):
    institution = reports_institution(request)
    definition = REPORTS.get(slug)
    if definition is None:
        raise Http404
    form = _period_form(request, definition.dimensions)
    report = None
    if form.is_valid():
        report = definition.build(institution=institution, period=form.period,
                                  by=form.cleaned_data.get("by") or "")
        export = request.GET.get("format")
        if export == "csv":
            return exports.as_csv(report, form.period)
        if export == "xlsx":
            return exports.as_xlsx(report, form.period)
    return render(request, "reports/report.html", {
        "title": str(definition.title),
        "slug": slug,
        "form": form,
        "columns": [{"label": str(c.label), "kind": c.kind} for c in report.columns]
        if report else [],
        "rows": report.values() if report else [],
        "table": [[{"value": value, "kind": column.kind}
                   for value, column in zip(values, report.columns, strict=True)]
                  for values in report.values()] if report else [],
        "notes": report.notes if report else [],
        "chart": mark_safe(exports.chart_svg(report)) if report and report.rows else "",
        "query": _query_without_format(request),
        # The billing summary links each partner's invoice for the same range.
        "invoices": [{"partner": row["partner"], "partner_id": row["partner_id"]}
                     for row in report.rows] if report and slug == "billing" else [],
        "reports": [{"slug": d.slug, "title": str(d.title)} for d in REPORTS.values()],
    }, status=200 if form.is_valid() else 400)


@login_required
@require_GET
def invoice_view(request, partner_id: int):
    """The invoice to one partner for a period: a printable page, or `?format=csv`."""
    institution = reports_institution(request)
    partner = get_object_or_404(Partner.objects.filter(institution=institution), pk=partner_id)
    form = _period_form(request)
    if not form.is_valid():
        return render(request, "reports/invoice.html", {"form": form, "invoice": None},
                      status=400)
    invoice = selectors.invoice(institution=institution, partner=partner, period=form.period)
    if request.GET.get("format") == "csv":
        return exports.invoice_csv(invoice, form.period, partner_code=partner.code)
    return render(request, "reports/invoice.html", {
        "form": form, "invoice": invoice, "institution": institution.name,
        "start": form.period.start, "end": form.period.end,
        "query": _query_without_format(request), "partner_id": partner.pk,
    })
