from django.urls import path

from raksa.retention import views

app_name = "retention"

urlpatterns = [
    path("dpo/legal-holds/", views.holds, name="holds"),
    path("dpo/legal-holds/<uuid:hold_id>/end/", views.end, name="end"),
]
