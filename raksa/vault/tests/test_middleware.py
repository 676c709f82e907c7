from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, SimpleTestCase

from raksa.vault import keys
from raksa.vault.middleware import vault_session_middleware


class VaultSessionMiddlewareTests(SimpleTestCase):
    def test_it_keeps_data_keys_for_one_request_only(self) -> None:
        caches: list[object] = []

        def view(request: HttpRequest) -> HttpResponse:
            caches.append(keys._session.get())
            return HttpResponse()

        handler = vault_session_middleware(view)
        handler(RequestFactory().get("/"))
        handler(RequestFactory().get("/"))
        self.assertIsNotNone(caches[0])
        self.assertIsNot(caches[0], caches[1])
        self.assertIsNone(keys._session.get())
