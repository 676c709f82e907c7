from django.urls import path

from raksa.disclosures import views

app_name = "disclosures"

urlpatterns = [
    path("me/disclosures/", views.my_disclosures, name="mine"),
    path("dpo/disclosures/", views.console, name="console"),
    path("dpo/disclosures/new/", views.disclosure_new, name="disclosure_new"),
    path("dpo/disclosures/<str:disclosure_id>/", views.disclosure, name="disclosure"),
    path("dpo/ropa/<str:language>.<str:extension>", views.ropa_download, name="ropa"),
    path("dpo/breaches/new/", views.breach_new, name="breach_new"),
    path("dpo/breaches/<int:breach_id>/", views.breach, name="breach"),
    path("processor/", views.processor_home, name="processor"),
    path("processor/<slug:slug>/export/", views.prepare_export, name="prepare_export"),
    path("processor/download/", views.download_export, name="download_export"),
]
