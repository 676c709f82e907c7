from django.urls import path

from raksa.consent import views

app_name = "consent"
urlpatterns = [
    path("cookies/", views.cookies, name="cookies"),
    path("privacy/", views.privacy_policy, name="privacy_policy"),
    path("privacy/read-changes/", views.read_changes, name="read_changes"),
    path("privacy/<slug:scope>/", views.agency_policy, name="agency_policy"),
    path("privacy/<slug:scope>/v<int:number>/", views.policy_version, name="policy_version"),
    path("privacy/<slug:scope>/diff/", views.policy_diff, name="policy_diff"),
    path("contact/email/", views.email, name="email"),
    path("contact/dpo/", views.ask, name="ask"),
    path("dpo/inquiries/", views.inquiries, name="inquiries"),
    path("dpo/inquiries/<str:reference>/", views.inquiry, name="inquiry"),
    path("staff/mailings/", views.mailings, name="mailings"),
    path("consents/", views.consents, name="consents"),
    path("consents/grant/", views.grant, name="grant"),
    path("consents/withdraw/", views.withdraw, name="withdraw"),
    path("dpo/privacy/<slug:scope>/", views.policy_draft, name="policy_draft"),
]
