from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended floor (m=19 MiB, t=2, p=1), measured in bench/passwords.py.

    Django's default (100 MiB, ~120 ms) would let ten simultaneous logins take a gigabyte.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
