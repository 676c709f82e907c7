from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Room left on each page of registrations for the emptied version of its rows (a registration's metadata
# is about half of a row with its sealed values), so that retention's UPDATE is a HOT update on
# PostgreSQL: the new version on the same page, no index entry written. It applies to pages written
# from now on; a table loaded before it gains the room when rewritten (VACUUM FULL, or a reload).
FILLFACTOR = 50


def leave_room(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE services_registration SET (fillfactor = {FILLFACTOR})")


def fill_pages(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE services_registration RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("services", "0003_registration_indexes_for_retention")]

    operations = [
        migrations.RemoveIndex(model_name="registration", name="services_reg_to_erase"),
        migrations.AddIndex(
            model_name="registration",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", False)), fields=["closed_at", "id"], name="services_reg_closed"
            ),
        ),
        migrations.RunPython(leave_room, fill_pages),
    ]
