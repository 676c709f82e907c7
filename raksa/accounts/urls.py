from django.urls import path

from raksa.accounts import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
    # Links sent by e-mail carry a token: the access log redacts these routes (see SECRET_ROUTES).
    path("confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("confirm-new-address/<str:token>/", views.confirm_email_change, name="confirm_email_change"),
    path("confirm-again/", views.resend_confirmation, name="resend_confirmation"),
    path("login/", views.login, name="login"),
    path("login/second-factor/", views.login_second_factor, name="login_second_factor"),
    path("logout/", views.logout, name="logout"),
    path("logged-out/", views.logged_out, name="logged_out"),
    path("", views.account, name="account"),
    path("password/", views.password_change, name="password_change"),
    path("password/confirm/", views.reauthenticate, name="reauthenticate"),
    path("password/forgot/", views.forgot_password, name="forgot_password"),
    path("password/forgot/sent/", views.forgot_password_done, name="forgot_password_done"),
    path("password/reset/<str:token>/", views.reset_link, name="reset_link"),
    path("password/reset/", views.reset_password, name="reset_password"),
    path("sessions/", views.sessions, name="sessions"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("two-factor/off/", views.two_factor_off, name="two_factor_off"),
    path("staff/", views.staff, name="staff"),
    path("staff/<uuid:user_id>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path(
        "staff/<uuid:user_id>/reset-second-factor/", views.staff_reset_second_factor, name="staff_reset_second_factor"
    ),
]

# Routes whose address holds a secret: whoever logs requests must drop their path arguments.
SECRET_ROUTES = ("accounts:confirm_email", "accounts:confirm_email_change", "accounts:reset_link")
