from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from kauko import views

admin.site.site_header = "Kauko"
admin.site.site_title = "Kauko"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("catalogue/", include("fulfillment.urls")),
    path("", include("ill.urls")),
    path("api/", include("kauko.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
