"""The access-control sweep (S2): every route of the site, as everyone who must not get in.

The routes are found by walking the root URLconf, so a new page or API route is swept without
editing this file. Each actor must be refused (a login redirect, 401, 403, 404 or 405) wherever they
do not belong, and no response may ever carry one of B's canary values or record IDs.
"""

from typing import ClassVar

from django.conf import settings
from django.test import TestCase

from raksa.security.tests import world
from raksa.security.tests.routes import all_routes
from raksa.security.tests.sweep import METHODS, OBJECT_PARAMETERS, Outcome, outcome, parameter_values, sweep

# The routes anonymous visitors may open. A new route that answers them is a decision for a person:
# add it here if it is meant to be public, or protect it.
PUBLIC = frozenset(
    {
        "/",  # the bare address redirects to the Thai home page
        "healthz",
        "admin:logout",  # signing out, which anyone may do
        "sitemap",
        "media",
        "core:home",
        "core:contact",
        "consent:cookies",
        "consent:consents",  # explains consents to visitors; the signed-in see their own
        "consent:privacy_policy",
        "consent:read_changes",
        "consent:agency_policy",
        "consent:policy_version",
        "consent:policy_diff",
        "consent:email",
        "consent:ask",
        "content:news",
        "content:news_detail",
        "content:news_rss",
        "content:news_atom",
        "content:videos",
        "content:video_detail",
        "content:video_play",
        "content:website_policy",
        "content:security_policy",
        "content:about",
        "content:page",
        "content:agencies",
        "content:links",
        "content:search",
        "accounts:signup",
        "accounts:signup_done",
        "accounts:confirm_email",
        "accounts:confirm_email_change",
        "accounts:resend_confirmation",
        "accounts:login",
        "accounts:login_second_factor",
        "accounts:logout",
        "accounts:logged_out",
        "accounts:forgot_password",
        "accounts:forgot_password_done",
        "accounts:reset_link",
        "accounts:reset_password",
        "services:list",
        "services:calendar",
        "services:calendar_list",
        "services:calendar_feed",
        "services:activities_rss",
        "services:activities_atom",
        # The API's description, its sign-up and log-in, and the published policies and agencies.
        "api:openapi-json",
        "api:openapi-view",
        "api:register",
        "api:login",
        "api:forgot_password",
        "api:reset_password",
        "api:platform_policy",
        "api:agencies",
        "api:agency_policy",
        "api:agency_policy_versions",
        "api:services",
        "api:service",
        "api:activities",
        "api:news",
        "services:detail",
    }
)

# Routes that answer every method alike, on purpose: the API's root (ninja's, which only names the
# documentation's address) and its catch-all both answer a 404 problem document to anything.
ANY_METHOD = frozenset({"api:api-root", "/api/v1/<path:rest>"})


def _report(title: str, outcomes: list[Outcome]) -> str:
    return f"{title} ({len(outcomes)}):\n  " + "\n  ".join(str(found) for found in outcomes)


class AccessSweepTests(TestCase):
    databases = "__all__"
    site: world.World
    # Set outside setUpTestData, whose attributes Django copies afresh for every test.
    swept: ClassVar[dict[tuple[str, tuple[str, ...]], list[Outcome]]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.swept = {}

    @classmethod
    def setUpTestData(cls) -> None:
        cls.site = world.build()

    def sweep(self, actor: str, methods: tuple[str, ...] = METHODS) -> list[Outcome]:
        """Each actor's sweep once per class: tests that judge the same answers differently share them."""
        if (actor, methods) not in self.swept:
            self.swept[actor, methods] = list(sweep(self.site, actor, methods=methods))
        return self.swept[actor, methods]

    def assert_no_secrets(self, actor: str, outcomes: list[Outcome]) -> None:
        leaks = [found for found in outcomes if found.secrets]
        self.assertEqual(leaks, [], _report(f"{actor} saw B's data or Minburi's records", leaks))

    def assert_objects_refused_as_if_missing(self, actor: str, outcomes: list[Outcome]) -> None:
        """On a route naming B's record, the actor is refused exactly as for a record that does not exist."""
        client = self.site.client_for(actor)
        wrong = []
        for found in outcomes:
            if not OBJECT_PARAMETERS.intersection(found.route.parameters):
                continue
            values = parameter_values(self.site, found.route, random_objects=True)
            missing_url = found.route.url(values, found.language)
            missing = outcome(self.site, client, found.route, found.method, missing_url, found.language)
            if not found.refused or found.status != missing.status:
                wrong.append(found)
        self.assertEqual(wrong, [], _report(f"{actor} was not refused as for a missing record", wrong))

    def test_it_lets_anonymous_visitors_open_only_the_declared_public_pages_s2(self) -> None:
        outcomes = self.sweep("anonymous")
        opened = [found for found in outcomes if not found.refused and found.route.label not in PUBLIC]
        self.assertEqual(
            opened, [], _report("Routes anonymous visitors got into (protect them, or add to PUBLIC)", opened)
        )
        self.assert_no_secrets("anonymous", outcomes)
        labels = {route.label for route in all_routes()}
        self.assertEqual(PUBLIC - labels, set(), "PUBLIC names routes that no longer exist")

    def test_it_answers_405_to_a_post_on_every_route_that_declares_get_only(self) -> None:
        """Every view says which methods it answers; one that answers GET only refuses a POST with 405.

        Django's admin is left to Django (its views take GET and POST alike). A view that declares
        nothing (a feed, a sitemap) would answer a POST as a GET: wrap it in `require_safe`.
        """
        routes = [route for route in all_routes() if not route.pattern.startswith(settings.RAKSA_ADMIN_URL)]
        undeclared = [route.label for route in routes if route.methods is None and route.label not in ANY_METHOD]
        self.assertEqual(undeclared, [], "routes that do not declare their methods (require_http_methods)")
        get_only = {route.label for route in routes if route.methods and "POST" not in route.methods}
        self.assertGreater(len(get_only), 50, "the declared methods were read")
        answered = [
            found for found in self.sweep("anonymous") if found.method == "POST" and found.route.label in get_only
        ]
        # A page behind the log-in sends anonymous visitors there first; public ones must say 405.
        wrong = [
            found for found in answered if found.status != 405 and (found.route.label in PUBLIC or not found.refused)
        ]
        self.assertEqual(wrong, [], _report("GET-only routes that did not answer a POST with 405", wrong))

    def test_it_gives_citizen_a_a_404_for_each_of_bs_records_s2(self) -> None:
        outcomes = self.sweep("citizen_a")
        self.assert_no_secrets("citizen_a", outcomes)
        self.assert_objects_refused_as_if_missing("citizen_a", outcomes)
        own_records = [
            found
            for found in outcomes
            if found.method == "GET" and found.route.name in {"services:mine_detail", "rights:export", "rights:request"}
        ]
        self.assertEqual({found.status for found in own_records}, {404})

    def test_it_keeps_an_officer_of_another_service_out_s2(self) -> None:
        self.assert_attacker_kept_out("officer_other_service")

    def test_it_keeps_an_officer_of_another_agency_out_s2(self) -> None:
        self.assert_attacker_kept_out("officer_other_agency")

    def test_it_keeps_the_dpo_of_another_agency_out_s2(self) -> None:
        self.assert_attacker_kept_out("dpo_other_agency")

    def test_it_keeps_the_administrator_of_another_agency_out_s2(self) -> None:
        self.assert_attacker_kept_out("administrator_other_agency")

    def test_it_keeps_a_contractor_out_of_everything_but_their_exports_s2(self) -> None:
        self.assert_attacker_kept_out("contractor")

    def assert_attacker_kept_out(self, actor: str) -> None:
        outcomes = self.sweep(actor)
        self.assert_no_secrets(actor, outcomes)
        self.assert_objects_refused_as_if_missing(actor, outcomes)

    def test_it_gives_staff_without_a_second_factor_no_more_than_a_citizen_s2(self) -> None:
        citizen_refused = {(found.route.label, found.method) for found in self.sweep("citizen_a") if found.refused}
        for actor in world.ATTACKERS:
            if not actor.endswith("_without_mfa"):
                continue
            with self.subTest(actor=actor):
                outcomes = self.sweep(actor)
                self.assert_no_secrets(actor, outcomes)
                beyond = [
                    found
                    for found in outcomes
                    if not found.refused and (found.route.label, found.method) in citizen_refused
                ]
                self.assertEqual(beyond, [], _report(f"{actor} got where a citizen is refused", beyond))
