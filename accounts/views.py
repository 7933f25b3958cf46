from django.contrib.auth import views as auth_views
from django.shortcuts import render

from accounts.navigation import NAVIGATION


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def home(request):
    return render(request, "home.html", {"navigation_size": len(NAVIGATION)})
