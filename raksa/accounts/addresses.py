"""The account's e-mail address: sealed in the vault, found by its blind index, opened for a purpose."""

from raksa.accounts.models import User


def store(user: User, email: str) -> None:
    raise NotImplementedError


def find_user(email: str) -> User | None:
    raise NotImplementedError


def open_for_mailer(user: User) -> str:
    raise NotImplementedError


def open_for_owner(user: User) -> str:
    raise NotImplementedError
