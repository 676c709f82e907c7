import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from django.utils import translation

from raksa.services import thai

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raksa.settings")
application = get_wsgi_application()

# Each server process builds its URL resolver in every language before it takes a request: that
# imports every app's views (≈200 ms of CPU), which the first request a new worker answered paid
# otherwise, while the requests behind it queued (at a start or a restart under load).
for language, _name in settings.LANGUAGES:
    with translation.override(language):
        reverse("core:home")
# …and loads the Thai address and phone data, which the first address check in a worker paid (≈50 ms).
thai.load_data()
