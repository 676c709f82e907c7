from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from raksa.accounts import addresses
from raksa.accounts.models import User
from raksa.consent.models import PolicyVersion
from raksa.organisations.models import StaffRole


def _password_field(label: Any, *, autocomplete: str = "new-password", help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class NewPasswordMixin:
    """Checks `password` with every validator in settings, against the account it is for."""

    password_owner: User

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]  # type: ignore[attr-defined]
        validate_password(password, self.password_owner)
        return password


class UsernameField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("User ID"),
            max_length=150,
            validators=[UnicodeUsernameValidator()],
            help_text=_("Letters, digits and @/./+/-/_ only. Other people may see it; it is not secret."),
            widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
            **kwargs,
        )


def _free_username(username: str) -> str:
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("This user ID is taken."), code="taken")
    return username


class SignupForm(NewPasswordMixin, forms.Form):
    username = UsernameField()
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send a link to confirm it. It is encrypted and used only for your account."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = _password_field(_("Password"), help_text=_("At least 8 characters. A long phrase is easiest."))
    accept_policy = forms.BooleanField(label=_("I have read the privacy policy and accept it."))

    def __init__(self, *args: Any, policy: PolicyVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_policy = policy

    def clean_username(self) -> str:
        return _free_username(self.cleaned_data["username"])

    def clean_password(self) -> str:
        self.password_owner = User(username=self.cleaned_data.get("username", ""))
        return super().clean_password()

    def clean_accept_policy(self) -> bool:
        # The form carries the version the person was shown; if another was published meanwhile,
        # they must read that one before accepting it.
        if self.data.get("policy") != str(self.current_policy.pk):
            raise ValidationError(
                _("The privacy policy has just been updated. Please read the new version and accept it again."),
                code="policy_changed",
            )
        return self.cleaned_data["accept_policy"]


class LoginForm(forms.Form):
    identifier = forms.CharField(
        label=_("User ID or e-mail address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = _password_field(_("Password"), autocomplete="current-password")


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "none"}),
    )


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class SetPasswordForm(NewPasswordMixin, forms.Form):
    password = _password_field(_("New password"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password_owner = user
        self.fields["password"].help_text = " ".join(str(text) for text in password_validators_help_texts())


class ChangePasswordForm(SetPasswordForm):
    current_password = _password_field(_("Current password"), autocomplete="current-password")
    field_order = ["current_password", "password"]

    def clean_current_password(self) -> str:
        current = self.cleaned_data["current_password"]
        if not self.password_owner.check_password(current):
            raise ValidationError(_("This is not your current password."), code="wrong_password")
        return current


class PasswordCheckForm(forms.Form):
    """Asks for the password again before a change that weakens the account."""

    password = _password_field(_("Password"), autocomplete="current-password")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("This is not your current password."), code="wrong_password")
        return password


class ReauthenticateForm(forms.Form):
    """The password again, before an act that cannot be undone (checked and throttled by the action)."""

    password = _password_field(_("Password"), autocomplete="current-password")


class TotpForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits the app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class StaffAccountForm(forms.Form):
    username = UsernameField()
    email = forms.EmailField(label=_("Work e-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=StaffRole.choices)

    def clean_username(self) -> str:
        return _free_username(self.cleaned_data["username"])

    def clean_email(self) -> str:
        # Only an agency's administrator sees this form, so naming a taken address reveals nothing new.
        email = self.cleaned_data["email"]
        if addresses.find_user(email) is not None:
            raise ValidationError(_("This e-mail address already has an account."), code="taken")
        return email
