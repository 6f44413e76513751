from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from octopushx.accounts import views
from octopushx.accounts.forms import PasswordResetForm

app_name = "accounts"

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("login/verify/", views.verify, name="verify"),
    path("logout/", views.sign_out, name="logout"),
    path("profile/", views.profile, name="profile"),
    path("security/", views.security, name="security"),
    path("security/", views.security, name="two_factor"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<uuid:session_id>/revoke/", views.revoke_session, name="revoke_session"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<uuid:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            form_class=PasswordResetForm,  # queues the email (a job): same answer time for any address
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
