from django.urls import path

from accounts import views
from accounts.mfa import mfa_exempt

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", mfa_exempt(views.LogoutView.as_view()), name="logout"),
    path("mfa/", views.mfa_verify, name="mfa_verify"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("users/", views.users, name="users"),
    path("users/mfa-reset/", views.user_mfa_reset, name="user_mfa_reset"),
]
