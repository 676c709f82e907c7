import io

import psycopg
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TransactionTestCase

INSERT_ENTRY = (
    "INSERT INTO audit_auditentry (time, role, action, object_type, object_id, fields, purpose, legal_basis, "
    "request_id, outcome) VALUES (now(), '', 'vault.read', '', '', 'email', '', '', '', 'allowed') RETURNING id"
)


class AppRoleTests(TransactionTestCase):
    """On PostgreSQL the application connects as a role that can only append to the audit log (S1, S3)."""

    databases = "__all__"

    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("roles are PostgreSQL's; on SQLite the triggers alone refuse (test_append_only)")
        settings = connection.settings_dict
        # Roles belong to the whole server: name this one after this test database.
        self.role = f"{settings['NAME']}_app"[:63]
        call_command("db", "grant-app-role", self.role, stdout=io.StringIO())
        self.addCleanup(self.drop_role)
        self.app = psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            dbname=settings["NAME"],
            user=self.role,
            autocommit=True,
        )
        self.addCleanup(self.app.close)

    def drop_role(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {self.role}")
            cursor.execute(f"DROP ROLE {self.role}")

    def assert_refused(self, sql: str, message: str) -> None:
        with self.assertRaisesMessage(psycopg.Error, message):
            self.app.execute(sql)

    def test_it_lets_the_app_role_only_append_to_the_audit_log_s1(self) -> None:
        (entry_id,) = self.app.execute(INSERT_ENTRY).fetchall()[0]
        self.assertEqual(self.app.execute("SELECT fields FROM audit_auditentry").fetchall(), [("email",)])
        self.assert_refused("UPDATE audit_auditentry SET action = 'account.login'", "permission denied")
        self.assert_refused("UPDATE audit_auditentry SET fields = ''", "permission denied")
        self.assert_refused("DELETE FROM audit_auditentry", "permission denied")
        self.assert_refused("TRUNCATE audit_auditentry", "permission denied")
        self.assert_refused("ALTER TABLE audit_auditentry DISABLE TRIGGER USER", "must be owner")
        self.assert_refused("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_no_delete", "must be owner")
        self.assert_refused("DROP TRIGGER audit_entry_no_delete ON audit_auditentry", "must be owner")
        self.assert_refused("ALTER TABLE audit_auditentry OWNER TO CURRENT_USER", "must be owner")
        self.assert_refused("UPDATE audit_auditcheckpoint SET hash = ''", "permission denied")
        self.assert_refused("DELETE FROM audit_auditcheckpoint", "permission denied")
        self.assert_refused("TRUNCATE audit_auditcheckpoint", "permission denied")
        self.assert_refused("CREATE TABLE escape (id int)", "permission denied")

        # The sequencer's one write: inserting the entry's link, never changed after.
        self.app.execute(
            "INSERT INTO audit_auditlink (sequence, entry_id, prev_hash, hash) VALUES (1, %s, %s, %s)",
            [entry_id, "0" * 64, "1" * 64],
        )
        self.assert_refused("UPDATE audit_auditlink SET hash = ''", "permission denied")
        self.assert_refused("DELETE FROM audit_auditlink", "permission denied")
        self.assert_refused("TRUNCATE audit_auditlink", "permission denied")
        self.assert_refused("ALTER TABLE audit_auditlink DISABLE TRIGGER USER", "must be owner")
        self.assertEqual(
            self.app.execute("SELECT entry_id, sequence FROM audit_auditlink").fetchall(),
            [(entry_id, 1)],
        )

    def test_it_lets_the_app_role_do_its_ordinary_work(self) -> None:
        self.app.execute("INSERT INTO subjects_subject (id, created_at) VALUES (gen_random_uuid(), now())")
        self.app.execute("DELETE FROM subjects_subject")
        [(count,)] = self.app.execute("SELECT count(*) FROM django_migrations").fetchall()
        self.assertGreater(count, 0)

    def test_it_refuses_to_limit_a_role_that_could_undo_its_limits(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            (owner,) = cursor.fetchone()
        with self.assertRaisesMessage(CommandError, "refused"):
            call_command("db", "grant-app-role", owner, stdout=io.StringIO())
