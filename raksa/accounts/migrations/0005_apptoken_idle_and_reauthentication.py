import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_inactivity_warned_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="apptoken",
            name="last_used_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="apptoken",
            name="reauthenticated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="apptoken",
            name="platform",
            field=models.CharField(blank=True, max_length=20),
        ),
    ]
