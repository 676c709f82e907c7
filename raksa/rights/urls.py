from django.urls import path

from raksa.rights import staff_views, views

app_name = "rights"
urlpatterns = [
    path("me/data/", views.my_data, name="my_data"),
    path("me/data/exports/", views.request_export, name="request_export"),
    path("me/data/exports/<uuid:export_id>/", views.export_status, name="export"),
    # The download link carries a single-use token: the access log redacts this route (SECRET_ROUTES).
    path("me/data/download/<uuid:export_id>/<str:token>/", views.export_download, name="export_download"),
    path("me/data/erasure/", views.erasure_preview, name="erasure_preview"),
    path("me/data/correct/", views.correct, name="correct"),
    path("me/account/close/", views.close_account, name="close_account"),
    path("me/requests/new/", views.new_request, name="new_request"),
    path("me/requests/<uuid:request_id>/", views.request_detail, name="request"),
    path("staff/rights/", staff_views.queue_page, name="queue"),
    path("staff/rights/new/", staff_views.walk_in, name="walk_in"),
    path("staff/rights/<uuid:request_id>/", staff_views.case, name="case"),
    path("staff/rights/<uuid:request_id>/link/", staff_views.link, name="link"),
    path("staff/rights/<uuid:request_id>/<str:step>/", staff_views.case_step, name="case_step"),
]

# Routes whose address holds a secret: whoever logs requests must drop their path arguments.
SECRET_ROUTES = ("rights:export_download",)
