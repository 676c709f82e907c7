"""The personal data an account itself holds; the person's details live in vault fields elsewhere."""

from raksa.registry import ACCOUNT_OPERATION, BROWSER, EMAIL, IP_ADDRESS, PUBLIC_TASK, USER_ID, declare, not_personal

declare(
    "accounts.User",
    "username",
    category=USER_ID,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
    plaintext="log-in finds the account by the user ID the person types, and it must be unique",
)
not_personal("accounts.User", "email_confirmed_at", reason="when the address was confirmed; it holds no address")
declare(
    "accounts.AppToken",
    "platform",
    category=BROWSER,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
    plaintext="the system the application runs on (Android, iOS), shown on the person's own sessions page so "
    "they can tell their log-ins apart; the raw user agent is never stored, and the row goes with the log-in",
)
for _field in ("browser", "platform"):
    declare(
        "accounts.Session",
        _field,
        category=BROWSER,
        purposes=[ACCOUNT_OPERATION],
        legal_basis=PUBLIC_TASK,
        plaintext="a short summary (browser name and version, system) shown on the person's own sessions "
        "page so they can tell their sessions apart; the raw user agent is never stored, and the row "
        "goes with the session",
    )
declare(
    "accounts.LoginThrottle",
    "address_key",
    category=IP_ADDRESS,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
    plaintext="a keyed hash (HMAC-SHA-256) matched exactly at each log-in to slow guessing from one "
    "address; the address itself is never stored, and the row is deleted at a successful log-in or "
    "forgotten after a quiet day",
)
declare(
    "accounts.AccountEmail",
    "email",
    category=EMAIL,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
    indexed=True,
    unique=True,  # one account per address: two sign-ups at once cannot both take it
)
declare(
    "accounts.PendingEmail",
    "email",
    category=EMAIL,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
)
