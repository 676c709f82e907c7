from django.urls import path
from django.views.decorators.http import require_safe

from raksa.services import publishing, views

app_name = "services"
urlpatterns = [
    path("", views.service_list, name="list"),
    path("calendar/", views.calendar_month, name="calendar"),
    path("calendar/list/", views.calendar_list, name="calendar_list"),
    path("calendar/activities.ics", views.calendar_feed, name="calendar_feed"),
    path("calendar/rss.xml", require_safe(publishing.ActivitiesFeed()), name="activities_rss"),
    path("calendar/atom.xml", require_safe(publishing.ActivitiesAtomFeed()), name="activities_atom"),
    path("mine/", views.my_registrations, name="mine"),
    path("mine/<uuid:registration_id>/", views.my_registration, name="mine_detail"),
    path("mine/<uuid:registration_id>/cancel/", views.cancel, name="cancel"),
    path("mine/<uuid:registration_id>/activity.ics", views.registration_ics, name="mine_ics"),
    path("queue/", views.queue, name="queue"),
    path("queue/<uuid:registration_id>/", views.case, name="case"),
    path("queue/<uuid:registration_id>/status/", views.case_status, name="case_status"),
    path("queue/<uuid:registration_id>/note/", views.case_note, name="case_note"),
    path("queue/<uuid:registration_id>/notify/", views.case_notify, name="case_notify"),
    path("<slug:slug>/", views.service_detail, name="detail"),
    path("<slug:slug>/register/", views.register, name="register"),
]
