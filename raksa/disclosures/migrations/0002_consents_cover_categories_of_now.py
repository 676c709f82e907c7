"""Consents to a recipient given before consents recorded what the person was shown.

What a person was shown when they consented to a recipient was not kept before consent.0004. The best
record left is what the recipient receives now: each such consent is taken to cover the categories of
its recipient's fields as they are when this migration runs. The grants themselves keep no categories
(ConsentEvent.categories stays null: unknown), so their history does not claim more than is known.
"""

from django.db import migrations

KEY_PREFIX = "disclosures.recipient:"


def cover_categories_of_now(apps, schema_editor):
    # The registry of declarations is code, not a model: it says which category a field is. A field
    # no longer declared has no category to cover and is left out.
    from raksa.registry import registry

    alias = schema_editor.connection.alias
    Consent = apps.get_model("consent", "Consent")
    Recipient = apps.get_model("disclosures", "Recipient")
    fields_of = {
        f"{KEY_PREFIX}{pk}": fields for pk, fields in Recipient.objects.using(alias).values_list("pk", "fields")
    }
    for consent in Consent.objects.using(alias).filter(recipient__startswith=KEY_PREFIX, granted=True):
        codes = []
        for ref in fields_of.get(consent.recipient, []):
            label, _dot, field = ref.rpartition(".")
            try:
                codes.append(registry.declaration(label, field).category.code)
            except LookupError:
                continue
        consent.categories = list(dict.fromkeys(codes))
        consent.save(update_fields=["categories"])


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_consent_categories"),
        ("disclosures", "0001_initial"),
    ]

    operations = [migrations.RunPython(cover_categories_of_now, migrations.RunPython.noop)]
