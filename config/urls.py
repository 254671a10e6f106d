from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import views
from config.middleware import PARTNER_PATH
from fulfillment import views as fulfillment_views
from ill.inbound import views as iso_views
from ill.outbox import views as outbox_views
from portal import views as portal_views

admin.site.site_header = "Kauko"
admin.site.site_title = "Kauko"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("home/live/", views.home_live, name="home_live"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("catalogue/", include("fulfillment.urls")),
    path("desk/", include("circulation.urls")),
    # Answered by kauko.middleware before the staff middleware; listed for reverse().
    path(PARTNER_PATH.lstrip("/"), iso_views.endpoint, name="iso18626"),
    path("iso18626/outbox/<int:pk>/resend/", outbox_views.resend, name="iso18626_resend"),
    path("iso18626/outbox/<int:pk>/resend-partner/", outbox_views.resend_partner,
         name="iso18626_resend_partner"),
    path("", include("ill.urls")),
    path("statistics/", include("reports.urls")),
    path("api/", include("config.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("my/", include("portal.urls")),
    path("openurl", portal_views.openurl, name="openurl"),
    path("sru", fulfillment_views.sru, name="sru"),
    path("sru/<str:code>", fulfillment_views.sru, name="sru_institution"),
]
