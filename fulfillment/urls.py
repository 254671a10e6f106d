from django.urls import path

from fulfillment import views

app_name = "fulfillment"

urlpatterns = [
    path("items/", views.item_search, name="item_search"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
]
