from django.urls import path

from . import views

app_name = "ill"

urlpatterns = [
    path("borrowing/", views.borrowing_list_view, name="borrowing_list"),
    path("borrowing/new/", views.borrowing_create, name="borrowing_create"),
    path("borrowing/bulk/", views.borrowing_bulk, name="borrowing_bulk"),
    path("borrowing/<int:pk>/", views.borrowing_detail_view, name="borrowing_detail"),
    path("borrowing/<int:pk>/edit/", views.borrowing_edit, name="borrowing_edit"),
    path("borrowing/<int:pk>/<slug:name>/", views.borrowing_action, name="borrowing_action"),
    path("a/<str:token>/", views.article_download, name="article_download"),
]
