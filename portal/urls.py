from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/campus/", views.oidc_start, name="oidc_start"),
    path("sign-in/campus/callback/", views.oidc_callback, name="oidc_callback"),
    path("sign-in/link/", views.sign_in_link, name="sign_in_link"),
    path("sign-in/link/<str:token>/", views.sign_in_link_use_view, name="sign_in_link_use"),
    path("request/", views.request_form, name="request"),
    path("hold/<int:item_id>/", views.hold_own_copy, name="hold_own_copy"),
    path("requests/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("requests/<int:pk>/renew/", views.renew, name="renew"),
    path("sign-out/", views.sign_out, name="sign_out"),
]
