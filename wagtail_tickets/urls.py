"""Customer log in, log out and password reset for a site that has none of its own.

    path("accounts/", include("wagtail_tickets.urls")),

The names are Django's own (``login``, ``logout``, ``password_reset`` …), so
``LOGIN_URL = "login"`` and Django's auth views find them.
"""

from django.urls import path

from .views import accounts

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        accounts.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        accounts.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
