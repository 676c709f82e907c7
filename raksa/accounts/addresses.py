"""The account's e-mail address: sealed in the vault, found by its blind index, opened for a purpose.

Accounts are the platform's, so each address is sealed under the platform operator's key for its
subject. Addresses are unique per account: `find_user` answers at most one account.
"""

from raksa.accounts.models import AccountEmail, PendingEmail, User
from raksa.organisations.models import Controller
from raksa.vault.actions import save_sealed
from raksa.vault.indexes import find
from raksa.vault.openers import Opener


def store(user: User, email: str) -> None:
    """Seal the address of a new account (call inside the action's transaction)."""
    if user.subject_id is None:
        raise ValueError("an account's address is sealed under its subject: give the account one first")
    controller = Controller.objects.get(is_platform_operator=True)
    row = AccountEmail(user=user, subject_id=user.subject_id, controller=controller, email=email)
    save_sealed(row)


def replace(user: User, email: str) -> None:
    """Seal a new address for an account, in place of its old one (call inside the action's transaction)."""
    row = AccountEmail.objects.filter(user=user).first()
    if row is None:
        store(user, email)
        return
    row.email = email
    save_sealed(row)


def find_user(email: str) -> User | None:
    """The account with this address (compared trimmed and without regard to case), or None."""
    ids = [match.object_id for match in find("email", email) if match.store == AccountEmail.vault_store]
    if not ids:
        return None
    return User.objects.filter(email_address__id__in=ids).first()


def _open(user: User, opener: Opener) -> str | None:
    row = AccountEmail.objects.filter(user=user).first()
    value = opener.open(row.email) if row is not None else None
    return value if isinstance(value, str) else None


def open_for_mailer(user: User) -> str | None:
    """The address to write to, or None if the account has none (or it was erased)."""
    return _open(user, Opener.for_system("mailer"))


def open_for_owner(user: User) -> str | None:
    """For the account holder's own pages only; None if there is none (or it was erased)."""
    if user.subject_id is None:
        return None
    return _open(user, Opener.for_subject(user.subject_id))


def hold_pending(user: User, email: str) -> None:
    """Seal a new address until its link is followed, in place of any earlier one (inside the action's transaction)."""
    if user.subject_id is None:
        raise ValueError("an account's address is sealed under its subject: give the account one first")
    PendingEmail.objects.filter(user=user).delete()
    controller = Controller.objects.get(is_platform_operator=True)
    save_sealed(PendingEmail(user=user, subject_id=user.subject_id, controller=controller, email=email))


def pending_for_mailer(user: User) -> str | None:
    """The new address waiting for confirmation, to write the link to; None if there is none."""
    row = PendingEmail.objects.filter(user=user).first()
    value = Opener.for_system("mailer").open(row.email) if row is not None else None
    return value if isinstance(value, str) else None
