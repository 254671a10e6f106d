from django.urls import path

from ill.borrowing import views
from ill.lending import views as lending_views

app_name = "ill"

urlpatterns = [
    path("borrowing/", views.borrowing_list_view, name="borrowing_list"),
    path("borrowing/new/", views.borrowing_create, name="borrowing_create"),
    path("borrowing/bulk/", views.borrowing_bulk, name="borrowing_bulk"),
    path("borrowing/<int:pk>/", views.borrowing_detail_view, name="borrowing_detail"),
    path("borrowing/<int:pk>/edit/", views.borrowing_edit, name="borrowing_edit"),
    path("borrowing/<int:pk>/hold-slip/", views.borrowing_hold_slip,
         name="borrowing_hold_slip"),
    path("borrowing/<int:pk>/<slug:name>/", views.borrowing_action, name="borrowing_action"),
    path("a/<str:token>/", views.article_download, name="article_download"),
    path("purchases/", views.purchase_list, name="purchase_list"),
]

urlpatterns += [
    path("lending/", lending_views.lending_list_view, name="lending_list"),
    path("lending/new/", lending_views.lending_create, name="lending_create"),
    path("lending/bulk/", lending_views.lending_bulk, name="lending_bulk"),
    path("lending/scan/", lending_views.lending_scan, name="lending_scan"),
    path("lending/pick-list/", lending_views.lending_pick_list, name="lending_pick_list"),
    path("lending/pull-slips/", lending_views.lending_pull_slips, name="lending_pull_slips"),
    path("lending/pull-slips/print/", lending_views.lending_pull_slips_print,
         name="lending_pull_slips_print"),
    path("lending/<int:pk>/", lending_views.lending_detail_view, name="lending_detail"),
    path("lending/<int:pk>/shipping-slip/", lending_views.lending_shipping_slip,
         name="lending_shipping_slip"),
    path("lending/<int:pk>/<slug:name>/", lending_views.lending_action, name="lending_action"),
    path("c/<str:token>/", lending_views.lending_copy_download, name="lending_copy_download"),
]
