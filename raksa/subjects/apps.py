from django.apps import AppConfig


class SubjectsConfig(AppConfig):
    name = "raksa.subjects"
    label = "subjects"
    default_auto_field = "django.db.models.BigAutoField"
