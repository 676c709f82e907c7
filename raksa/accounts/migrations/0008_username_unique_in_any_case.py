"""The index a log-in finds its account by (0007) becomes unique: with a plain one, PostgreSQL's planner
walked every account until ANALYZE had sampled the index's expression (see User.Meta). The unique
index is made before the plain one goes, so that log-ins never go without one."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_username_upper_index"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("subjects", "0002_processing_limits"),
    ]

    operations = [
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
