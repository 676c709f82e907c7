"""`raksa db grant-app-role ROLE`: the restricted PostgreSQL role the application serves with.

Production uses two database URLs: migrations run as the tables' owner, the application connects
as this role. It may read and write the application's tables, but on the audit log (entries, chain
links, checkpoints) it may only INSERT and SELECT: the sequencer chains an entry by inserting its
link. Not being the owner, it cannot TRUNCATE, disable or drop the triggers.
Run it again after every `migrate`: tables created since then get their grants. It lives in the
audit app because the audit log is what the role's limits are for.
"""

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction

from raksa.audit.triggers import AUDIT_TABLES

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Command(BaseCommand):
    help = "Database administration for PostgreSQL: grant-app-role ROLE creates or limits the serving role."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        grant = commands.add_parser("grant-app-role", help="create (if missing) and grant the application's role")
        grant.add_argument("role", help="the role the application connects as (created with LOGIN if missing)")
        grant.add_argument("--database", default="default", help="the database alias to grant on (default: default)")

    def handle(self, *args: Any, command: str, role: str, database: str, **options: Any) -> None:
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("grant-app-role is for PostgreSQL: SQLite has no roles (its triggers still refuse).")
        if not _ROLE.fullmatch(role):
            raise CommandError(f"a role name is lowercase letters, digits and _, not {role!r}")
        name = connection.ops.quote_name(role)
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper OR rolbypassrls OR rolcreaterole, pg_has_role(%s, current_user, 'MEMBER') "
                "FROM pg_roles WHERE rolname = %s",
                [role, role],
            )
            found = cursor.fetchone()
            if found is None:
                cursor.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
                self.stdout.write(f"Created role {role} (LOGIN, no password: set one with ALTER ROLE … PASSWORD).")
            elif any(found):
                raise CommandError(f"{role} is a superuser, may create roles, or is a member of the owner: refused")
            cursor.execute("SELECT current_database()")
            (database_name,) = cursor.fetchone()
            for statement in (
                f"GRANT CONNECT ON DATABASE {connection.ops.quote_name(database_name)} TO {name}",
                f"GRANT USAGE ON SCHEMA public TO {name}",
                f"REVOKE CREATE ON SCHEMA public FROM {name}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {name}",
            ):
                cursor.execute(statement)
            present = set(connection.introspection.table_names(cursor))
            audit_tables = ", ".join(table for table in AUDIT_TABLES if table in present)
            if audit_tables:
                # REVOKE ALL also takes back column grants an earlier version of this command gave.
                cursor.execute(f"REVOKE ALL ON {audit_tables} FROM {name}")
                cursor.execute(f"GRANT SELECT, INSERT ON {audit_tables} TO {name}")
        self.stdout.write(f"Granted {role} on {database_name}: the audit log is INSERT and SELECT only.")
