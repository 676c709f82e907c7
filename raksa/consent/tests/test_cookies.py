from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, TestCase

from raksa.consent.cookies import CHOICE_COOKIE, POLICY_SEEN_COOKIE, VISITOR_COOKIE, registered_cookies
from raksa.consent.middleware import CookieGateMiddleware
from raksa.core import demo

ORIGIN = "http://testserver"


class CookieBannerTests(TestCase):
    databases = "__all__"

    @classmethod
    def setUpTestData(cls) -> None:
        demo.load_organisations()

    def choose(self, choice: str, **extra: str):
        return self.client.post("/th/cookies/", {"choice": choice, "next": "/th/", **extra}, HTTP_ORIGIN=ORIGIN)

    def test_it_sets_no_optional_cookie_before_the_choice_k1(self) -> None:
        response = self.client.get("/th/")
        self.assertEqual(response.cookies, {})
        self.assertContains(response, 'class="cookie-banner"')

    def test_it_offers_accept_refuse_and_choose_with_equal_weight_k1(self) -> None:
        body = self.client.get("/en/").content.decode()
        banner = body[body.index('class="cookie-banner"') : body.index("</section>")]
        for label in ("Accept all", "Refuse all", "Choose"):
            self.assertIn(f'class="{"button " if label == "Choose" else ""}choice"', banner)
            self.assertIn(label, banner)
        self.assertNotIn("checked", banner)

    def test_it_remembers_a_refusal_and_sets_only_the_choice_k1(self) -> None:
        response = self.choose("refuse")
        self.assertRedirects(response, "/th/", fetch_redirect_response=False)
        self.assertEqual(response.cookies[CHOICE_COOKIE].value, "1:")
        self.assertNotIn(VISITOR_COOKIE, response.cookies)
        page = self.client.get("/th/")
        self.assertNotContains(page, 'class="cookie-banner"')
        self.assertNotIn(VISITOR_COOKIE, page.cookies)

    def test_it_sets_the_statistics_cookie_only_after_acceptance_k1(self) -> None:
        response = self.choose("accept")
        self.assertEqual(response.cookies[CHOICE_COOKIE].value, "1:preferences.statistics")
        self.assertIn(VISITOR_COOKIE, response.cookies)

    def test_it_deletes_optional_cookies_when_the_choice_changes_to_refusal_k1(self) -> None:
        self.choose("accept")
        self.assertIn(VISITOR_COOKIE, self.client.cookies)
        response = self.choose("refuse")
        self.assertEqual(response.cookies[VISITOR_COOKIE]["max-age"], 0)

    def test_it_saves_a_choice_per_category_k1(self) -> None:
        response = self.choose("save", preferences="on")
        self.assertEqual(response.cookies[CHOICE_COOKIE].value, "1:preferences")
        self.assertNotIn(VISITOR_COOKIE, response.cookies)

    def test_it_treats_global_privacy_control_as_refusal_k1(self) -> None:
        self.choose("accept")
        self.client.cookies.pop(VISITOR_COOKIE)
        response = self.client.get("/th/", HTTP_SEC_GPC="1")
        self.assertNotIn(VISITOR_COOKIE, response.cookies)
        self.assertNotContains(response, 'class="cookie-banner"')
        page = self.client.get("/en/cookies/", HTTP_DNT="1")
        self.assertContains(page, "We treat it as a refusal")

    def test_it_drops_a_cookie_that_is_not_registered_or_not_allowed_k1(self) -> None:
        def view_setting_cookies(request: HttpRequest) -> HttpResponse:
            response = HttpResponse("ok")
            response.set_cookie("tracker", "1")
            response.set_cookie(POLICY_SEEN_COOKIE, "3")
            response.set_cookie("messages", "hello")
            return response

        gate = CookieGateMiddleware(view_setting_cookies)
        response = gate(RequestFactory().get("/th/"))
        self.assertEqual(sorted(response.cookies), ["messages"])
        request = RequestFactory().get("/th/")
        request.COOKIES[CHOICE_COOKIE] = "1:preferences"
        self.assertEqual(sorted(gate(request).cookies), ["messages", POLICY_SEEN_COOKIE])

    def test_it_refuses_a_choice_posted_from_another_site_k1(self) -> None:
        response = self.client.post("/th/cookies/", {"choice": "accept"}, HTTP_ORIGIN="https://evil.example")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.cookies.get(CHOICE_COOKIE), None)

    def test_it_generates_the_cookie_page_from_the_registry_k1(self) -> None:
        page = self.client.get("/en/cookies/")
        for cookie in registered_cookies():
            self.assertContains(page, f"<code>{cookie.name}</code>")
        self.assertContains(page, "365 days")
        self.assertContains(page, "Until you close the browser")

    def test_it_links_the_cookie_settings_from_every_footer_k1(self) -> None:
        for url in ("/th/", "/th/contact/", "/en/privacy/"):
            self.assertContains(self.client.get(url), 'href="/' + url[1:3] + '/cookies/"')
