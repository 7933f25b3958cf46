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
    path("users/new/", views.user_create, name="user_create"),
    path("users/mfa-reset/", views.user_mfa_reset, name="user_mfa_reset"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", views.user_roles, name="user_roles"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
]
