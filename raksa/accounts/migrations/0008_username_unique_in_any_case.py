"""The index a log-in finds its account by (0007) becomes unique: with a plain one, PostgreSQL's planner
walked every account until ANALYZE had sampled the index's expression (see User.Meta). The unique
index is made before the plain one goes, so that log-ins never go without one.

Accounts made before it could differ only in case (two sign-ups at once, `createsuperuser`, code that
called `create_user`): the migration then stops before changing anything and says how many, never
which, since user IDs are personal data and migration output reaches logs (docs/accounts.md says how
to resolve them)."""

import django.db.models.functions.text
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Count
from django.db.models.functions import Upper


def refuse_user_ids_differing_only_in_case(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    user = apps.get_model("accounts", "User")
    clashes = (
        user.objects.using(schema_editor.connection.alias)
        .values(upper=Upper("username"))
        .annotate(accounts=Count("pk"))
        .filter(accounts__gt=1)
        .count()
    )
    if clashes:
        raise RuntimeError(
            f"user IDs held by more than one account, differing only in case: {clashes}. Give each account "
            "a user ID of its own (docs/accounts.md, 'User IDs that differ only in case'), then migrate "
            "again. Nothing was changed."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_username_upper_index"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("subjects", "0002_processing_limits"),
    ]

    operations = [
        migrations.RunPython(refuse_user_ids_differing_only_in_case, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Upper("username"),
                name="one_username_in_any_case",
                violation_error_message="This user ID is taken.",
            ),
        ),
        migrations.RemoveIndex(
            model_name="user",
            name="accounts_user_username_upper",
        ),
    ]
