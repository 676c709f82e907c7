import functools

import nacl.exceptions
import nacl.pwhash
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher
from django.utils.encoding import force_bytes
from django.utils.module_loading import import_string

# OWASP's minimums for Argon2id (Password Storage Cheat Sheet): (memory in KiB, passes) at p=1, each
# "an equal level of defense" that trades memory for time.
OWASP_ARGON2ID_MINIMUMS = ((46 * 1024, 1), (19 * 1024, 2), (12 * 1024, 3), (9 * 1024, 4), (7 * 1024, 5))


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's m=7 MiB, t=5, p=1, chosen by measurement (docs/accounts.md, bench/passwords.py).

    A log-in's hash is verified by libsodium (PyNaCl), which picks the processor's AVX2/AVX-512 code
    at run time and needs about half the CPU of argon2-cffi's SSE2 build for the same hash. New
    hashes are still made by Django's argon2-cffi code: libsodium takes only 16-byte salts, Django
    makes 22-character ones. Both read and write the standard `$argon2id$v=19$m=…,t=…,p=…$salt$hash`,
    so every stored hash keeps verifying, and one made with other parameters is made again with
    these at its owner's next log-in (Django's `must_update`). Of OWASP's equivalent settings this
    one costs the least CPU here: libsodium maps fresh memory for every hash, so less memory is less
    work. Django's default (m=100 MiB, t=2, p=8) would let ten log-ins at once take a gigabyte.
    """

    time_cost = 5
    memory_cost = 7 * 1024
    parallelism = 1

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, rest = encoded.split("$", 1)
        assert algorithm == self.algorithm
        if not rest.startswith("argon2id$"):
            return super().verify(password, encoded)
        try:
            return nacl.pwhash.verify(f"${rest}".encode("ascii"), force_bytes(password))
        except nacl.exceptions.InvalidkeyError:
            return False
        except ValueError:
            # libsodium reads encoded hashes of at most 127 bytes (an imported one may be longer).
            return super().verify(password, encoded)


def spend_a_verification(password: str) -> None:
    """What checking a password costs, spent for an account that does not exist: the same
    verification as for a real one, so the time an answer takes does not tell whether it exists."""
    get_hasher().verify(password, _stand_in_hash(settings.PASSWORD_HASHERS[0]))


@functools.cache
def _stand_in_hash(hasher_path: str) -> str:
    hasher = import_string(hasher_path)()
    return hasher.encode("no account has this password", hasher.salt())
