"""`raksa keys rotate-index`: every blind index recomputed under a new RAKSA_INDEX_KEY (C2, A1).

While it runs, look-ups accept the old key (RAKSA_PREVIOUS_INDEX_KEYS); after it, people still log
in by e-mail with the new key alone, and the old key finds nothing.
"""

from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client, TestCase, override_settings

from raksa import devkeys
from raksa.accounts import addresses
from raksa.accounts.models import AccountEmail, User
from raksa.audit.models import AuditEntry
from raksa.testing import accounts as personas
from raksa.vault.actions import ValueTakenError, rotate_index_key
from raksa.vault.indexes import find, key_id
from raksa.vault.models import BlindIndex
from raksa.vault.routers import KEYSTORE

LOGIN = "/en/accounts/login/"


def citizen_with_email(username: str, email: str) -> User:
    with transaction.atomic(), transaction.atomic(using=KEYSTORE):
        user = personas.citizen(username)
        addresses.store(user, email)
    return user


def logs_in(identifier: str) -> bool:
    client = Client()
    client.post(LOGIN, {"identifier": identifier, "password": personas.PASSWORD}, secure=True)
    return "_auth_user_id" in client.session


class IndexRotationTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.platform_operator()
        self.old_key = settings.RAKSA_INDEX_KEY
        self.new_key = devkeys.generate_keys()["RAKSA_INDEX_KEY"]
        self.somchai = citizen_with_email("somchai", "Somchai@Example.org")
        self.somsri = citizen_with_email("somsri", "somsri@example.org")

    def rotating(self) -> override_settings:
        return self.settings(RAKSA_INDEX_KEY=self.new_key, RAKSA_PREVIOUS_INDEX_KEYS=[self.old_key])

    def test_it_recomputes_every_index_and_people_log_in_by_email_after_it_c2(self) -> None:
        output = StringIO()
        with self.rotating():
            self.assertTrue(logs_in("somchai@example.org"), "the old key is accepted until the rotation is done")
            call_command("keys", "rotate-index", "--batch-size", "1", stdout=output)
        new_id = key_id(self.new_key)
        self.assertIn(f"recomputed 2 blind indexes under index key {new_id}; dropped 0", output.getvalue())
        self.assertEqual(set(BlindIndex.objects.using(KEYSTORE).values_list("key_id", flat=True)), {new_id})
        with self.settings(RAKSA_INDEX_KEY=self.new_key):
            self.assertTrue(logs_in(" SOMCHAI@example.org"))
            self.assertTrue(logs_in("somsri@example.org"))
        self.assertEqual(find("email", "somchai@example.org"), [], "the old key alone finds nothing any more")
        self.assertFalse(logs_in("somchai@example.org"))

    def test_it_audits_the_rotation_with_counts_only_c2(self) -> None:
        stored = BlindIndex.objects.using(KEYSTORE).values_list("digest", flat=True)
        digests = {bytes(digest).hex() for digest in stored}
        with self.rotating():
            rotate_index_key()
        entry = AuditEntry.objects.get(action="vault.rotate_index")
        self.assertEqual(entry.object_id, f"{key_id(self.new_key)}-recomputed2-dropped0")
        self.assertEqual(entry.subject_id, None)
        written = " ".join(str(value) for value in AuditEntry.objects.values_list().get(pk=entry.pk))
        self.assertFalse([digest for digest in digests if digest in written])
        self.assertNotIn("example.org", written)

    def test_it_resumes_where_it_stopped_and_drops_indexes_whose_value_is_gone(self) -> None:
        with self.rotating():
            first = rotate_index_key()
            self.assertEqual((first.recomputed, first.dropped), (2, 0))
            self.assertEqual((rotate_index_key().recomputed, rotate_index_key().dropped), (0, 0))
        with self.settings(RAKSA_INDEX_KEY=self.old_key, RAKSA_PREVIOUS_INDEX_KEYS=[self.new_key]):
            # A row deleted in bulk, its index left behind: the next rotation finds no value and drops it.
            AccountEmail.objects.filter(user=self.somsri)._raw_delete(AccountEmail.objects.db)
            back = rotate_index_key()
        self.assertEqual((back.recomputed, back.dropped), (1, 1))
        self.assertEqual(BlindIndex.objects.using(KEYSTORE).count(), 1)

    def test_it_refuses_a_taken_address_whose_index_is_not_yet_recomputed_a2(self) -> None:
        with self.rotating(), self.assertRaises(ValueTakenError):
            citizen_with_email("impostor", "somchai@example.org")
        self.assertFalse(User.objects.filter(username="impostor").exists())
