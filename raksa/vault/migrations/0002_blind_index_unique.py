"""Blind indexes of fields declared unique (an account's e-mail) refuse a second row with the same value.

The rows already indexed for such fields are marked first; if two rows already share a value, the
constraint cannot be created and the migration stops: resolve the duplicate by hand, then migrate.
"""

from django.db import migrations, models


def mark_unique_fields(apps, schema_editor):
    from raksa.registry import registry

    BlindIndex = apps.get_model("vault", "BlindIndex")
    for declaration in registry.declarations():
        if declaration.unique:
            model = declaration.model_class()
            BlindIndex.objects.using(schema_editor.connection.alias).filter(
                store=model.vault_store, field=declaration.field
            ).update(unique=True)


class Migration(migrations.Migration):
    dependencies = [("vault", "0001_initial")]

    operations = [
        migrations.AddField(model_name="blindindex", name="unique", field=models.BooleanField(default=False)),
        migrations.RunPython(
            mark_unique_fields, migrations.RunPython.noop, hints={"model_name": "blindindex"}, elidable=False
        ),
        migrations.AddConstraint(
            model_name="blindindex",
            constraint=models.UniqueConstraint(
                condition=models.Q(("unique", True)), fields=("store", "field", "digest"), name="unique_value_per_field"
            ),
        ),
    ]
