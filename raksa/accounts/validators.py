from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from raksa.accounts.models import PasswordHistory, User


class MaximumLengthValidator:
    """Long passphrases are welcome; the limit only keeps hashing requests bounded."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: User | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long: it must have at most %(max_length)d character.",
                    "This password is too long: it must have at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return _("Your password can be up to %(max_length)d characters long.") % {"max_length": self.max_length}


class PreviousPasswordValidator:
    """Refuses the current password and the last few the account used."""

    def __init__(self, remembered: int = 5) -> None:
        self.remembered = remembered

    def validate(self, password: str, user: User | None = None) -> None:
        if user is None or user.pk is None:
            return
        earlier = [
            user.password,
            *PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: self.remembered],
        ]
        if any(encoded and check_password(password, encoded) for encoded in earlier):
            raise ValidationError(_("You have used this password before: choose a new one."), code="password_reused")

    def get_help_text(self) -> str:
        return _("Your password cannot be one you used recently.")
