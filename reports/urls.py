from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_index, name="index"),
    path("billing/invoice/<int:partner_id>/", views.invoice_view, name="invoice"),
    path("<slug:slug>/", views.report_view, name="report"),
]
