from django.urls import path

from raksa.accesslog import views

app_name = "accesslog"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("investigate/", views.investigate, name="investigate"),
    path("holds/", views.place_hold, name="place_hold"),
    path("holds/<uuid:hold_id>/release/", views.release_hold, name="release_hold"),
]
