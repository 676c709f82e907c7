"""The personal data an account itself holds; the person's details live in vault fields elsewhere."""

from raksa.registry import ACCOUNT_OPERATION, PUBLIC_TASK, USER_ID, declare

declare(
    "accounts.User",
    "username",
    category=USER_ID,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
    plaintext="log-in finds the account by the user ID the person types, and it must be unique",
)
