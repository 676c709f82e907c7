"""Nothing of the accounts app is edited in Django's admin: accounts change only through actions.

django-otp registers its TOTP devices in the admin, where their secrets and QR codes would show:
they are taken out again.
"""

from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
