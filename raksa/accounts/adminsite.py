"""Django's admin, open only to staff who passed their second factor in this session (S2).

The admin's own check lets in any active staff account; without this, staff without a second
factor would reach its pages.
"""

from django.contrib import admin
from django.http import HttpRequest

from raksa.accounts.mfa import passed_second_factor


class SecondFactorAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and passed_second_factor(request)
