from django.urls import path

from raksa.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("contact/", views.contact, name="contact"),
]
