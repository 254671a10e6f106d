from django.urls import path

from circulation import views

app_name = "desk"

urlpatterns = [
    path("", views.desk_list, name="desk_list"),
    path("<int:desk_id>/scan/", views.scan_in, name="scan_in"),
    path("<int:desk_id>/undo/", views.undo, name="undo"),
    path("<int:desk_id>/override/<int:hold_id>/", views.override_loan, name="override_loan"),
    path("<int:desk_id>/check-out/", views.check_out, name="check_out"),
    path("<int:desk_id>/check-in/", views.check_in, name="check_in"),
    path("<int:desk_id>/hold-shelf/", views.hold_shelf, name="hold_shelf"),
    path("<int:desk_id>/self-service/", views.self_service, name="self_service"),
    path("<int:desk_id>/slips/<int:scan_id>/", views.slip, name="slip"),
    path("items/<int:item_id>/", views.item_circulation, name="item_circulation"),
    path("loans/<int:loan_id>/renew/", views.renew, name="renew"),
    path("ill-loans/long/", views.long_ill_loans, name="long_ill_loans"),
]
