import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from raksa.vault.fields import EncryptedField
from raksa.vault.models import VaultModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: object) -> "User":
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> "User":
        # A user ID is one account in any case (the unique index on UPPER(username)); createsuperuser
        # asks this to refuse a taken one before the index would.
        return self.get(username__iexact=username)

    def create_superuser(self, username: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. It holds a user ID and a password hash; personal details live in the vault.

    Django's AbstractUser is not used: it keeps name and e-mail in plaintext columns.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        _("user ID"),
        max_length=150,
        unique=True,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only."),
        error_messages={"unique": _("This user ID is taken.")},
    )
    subject = models.OneToOneField(
        "subjects.Subject", on_delete=models.PROTECT, null=True, blank=True, related_name="account"
    )
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed"), null=True, blank=True)
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)
    # When the account holder was told that the unused account will be closed (raksa/accounts/retention.py).
    inactivity_warned_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            # A log-in finds its account by `username__iexact` (UPPER(username) = UPPER(%s) on
            # PostgreSQL), which the index on `username` cannot serve. The sign-up forms already
            # refuse a user ID taken in another case; being unique, the index also tells PostgreSQL's
            # planner that the look-up finds at most one row. A plain index did not: until ANALYZE
            # had sampled its expression (autovacuum waits for a tenth of the table to change), the
            # planner guessed 0.5 % of the accounts matched and walked the primary key in the order
            # `.first()` asks for, testing every account on the way: 4-8 s per log-in among a million.
            models.UniqueConstraint(
                Upper("username"), name="one_username_in_any_case", violation_error_message=_("This user ID is taken.")
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def email_confirmed(self) -> bool:
        """Services accept registrations only from accounts whose e-mail address was confirmed."""
        return self.email_confirmed_at is not None


class Session(AbstractBaseSession):
    """A server-side session, indexed by account so a person can see and end each of theirs.

    The extra columns are copied from the session's own data at every save (see sessions.py); they
    hold a browser and device summary, never the raw user agent or the address.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="sessions")
    browser = models.CharField(max_length=60, blank=True)
    platform = models.CharField(max_length=60, blank=True)
    device = models.CharField(max_length=10, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    @classmethod
    def get_session_store_class(cls) -> type:
        from raksa.accounts.sessions import SessionStore

        return SessionStore

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")  # type: ignore[assignment]
        verbose_name_plural = _("sessions")  # type: ignore[assignment]


class LoginThrottle(models.Model):
    """Failed log-ins of one (account, address) pair: slowed, then locked for a cool-off, never for good.

    Both keys are keyed hashes: an unknown user ID is throttled exactly like a real one, and the
    address itself is not stored.
    """

    account_key = models.CharField(max_length=64)
    address_key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account_key", "address_key"], name="one_throttle_per_pair")]

    def __str__(self) -> str:
        return f"{self.failures} failures"


class TokenPurpose(models.TextChoices):
    CONFIRM_EMAIL = "confirm_email", _("confirm e-mail")
    RESET_PASSWORD = "reset_password", _("reset password")
    INVITATION = "invitation", _("staff invitation")
    CHANGE_EMAIL = "change_email", _("change e-mail")


class AccountToken(models.Model):
    """A single-use link sent by e-mail. Only the token's SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=20, choices=TokenPurpose.choices)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} link of {self.user_id}"


class AppToken(models.Model):
    """A log-in of the mobile application: an opaque bearer token of which only the SHA-256 is stored.

    It ends at its expiry, after RAKSA_APP_TOKEN_IDLE_HOURS unused, at log-out, when ended on the
    website's sessions page, and wherever the account's sessions end (password change or reset,
    deactivation, "end all other sessions").
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="app_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Unused for RAKSA_APP_TOKEN_IDLE_HOURS, the token stops working (as an idle web session does).
    last_used_at = models.DateTimeField(default=timezone.now)
    # The password given again in the application (POST /api/v1/auth/reauthenticate), for acts that need it recent.
    reauthenticated_at = models.DateTimeField(null=True, blank=True)
    # From the user agent at log-in ("Android", "iOS"), so the person recognises it on the sessions page.
    platform = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("application log-in")
        verbose_name_plural = _("application log-ins")

    def __str__(self) -> str:
        return f"application log-in of {self.user_id}"


class PasswordHistory(models.Model):
    """Hashes of an account's earlier passwords, so a reused one can be refused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"earlier password of {self.user_id}"


class RecoveryCode(models.Model):
    """A one-time second-factor code for when the authenticator is lost. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class AccountEmail(VaultModel):
    """The account's e-mail address, sealed by the vault under the platform operator and found by its blind index."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="email_address")
    email = EncryptedField(_("e-mail address"))

    vault_store = "accounts.email"

    class Meta:
        verbose_name = _("account e-mail address")
        verbose_name_plural = _("account e-mail addresses")

    def __str__(self) -> str:
        return f"e-mail address of {self.user_id}"


class PendingEmail(VaultModel):
    """A new address the account holder asked for, sealed until they follow the link mailed to it; only
    then does it replace the account's address. Until then nothing shows whether another account has it."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="pending_email")
    email = EncryptedField(_("new e-mail address"))
    created_at = models.DateTimeField(default=timezone.now)

    vault_store = "accounts.pending_email"

    class Meta:
        verbose_name = _("e-mail address waiting for confirmation")
        verbose_name_plural = _("e-mail addresses waiting for confirmation")

    def __str__(self) -> str:
        return f"new e-mail address of {self.user_id}"
