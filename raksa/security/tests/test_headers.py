"""The security headers of every response the site gives, to visitors, citizens and staff (S1).

The site is swept once for the whole class (every route, as each reader); each test then checks one
property of what came back.
"""

from dataclasses import dataclass

from django.test import TestCase

from raksa.accounts.models import User
from raksa.security.tests import world
from raksa.security.tests.markup import inline_code
from raksa.security.tests.sweep import METHODS, exchanges
from raksa.testing import accounts as personas

# Everyone whose pages differ: visitors, a citizen with records, the staff consoles, the admin.
READERS = {
    "anonymous": METHODS,
    "citizen_b": METHODS,
    "officer": METHODS,
    "dpo": METHODS,
    "investigator": METHODS,
    "contractor": ("GET",),
    "superuser": ("GET",),
}
PROTECTIONS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
STRICT_DIRECTIVES = {"object-src": ["'none'"], "base-uri": ["'none'"], "frame-ancestors": ["'none'"]}
NEVER_ALLOWED = {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"}


@dataclass(frozen=True)
class Seen:
    where: str
    actor: str
    status: int
    html: bool
    headers: dict[str, str]
    inline_problems: tuple[str, ...]
    secrets: tuple[str, ...]


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def _inline_problems(body: str, policy: dict[str, list[str]]) -> tuple[str, ...]:
    code = inline_code(body)
    nonces = {value.removeprefix("'nonce-").removesuffix("'") for value in policy.get("script-src", [])}
    return (
        *(f"inline <script> without a nonce at {at}" for at in code.scripts_without_nonce),
        *(f"script nonce {nonce} not in the policy" for nonce in code.script_nonces - nonces),
        *(f"inline <style> at {at}" for at in code.styles_without_nonce),
        *code.handlers,
        *code.javascript_urls,
        *code.style_attributes,
    )


class HeaderTests(TestCase):
    databases = "__all__"
    seen: list[Seen]
    hidden: set[str]

    @classmethod
    def setUpTestData(cls) -> None:
        site = world.build()
        cls.hidden = set(site.canaries) | set(site.object_ids)
        superuser = User.objects.create_superuser("editor", personas.PASSWORD)
        personas.with_totp(superuser)
        site.users["superuser"] = superuser
        cls.seen = []
        for actor, methods in READERS.items():
            for found, response, body in exchanges(site, actor, methods=methods):
                html = found.status == 200 and response.get("Content-Type", "").startswith("text/html")
                headers = dict(response.items())
                policy = _policy(headers.get("Content-Security-Policy", ""))
                cls.seen.append(
                    Seen(
                        where=f"{found.method} {found.url} as {actor}",
                        actor=actor,
                        status=found.status,
                        html=html,
                        headers=headers,
                        inline_problems=_inline_problems(body, policy) if html else (),
                        secrets=found.secrets,
                    )
                )

    def test_it_renders_no_inline_code_outside_the_content_security_policy_s1(self) -> None:
        pages = [seen for seen in self.seen if seen.html]
        self.assertGreater(len(pages), 150, "the sweep rendered the site's pages")
        problems = [f"{seen.where}: {problem}" for seen in pages for problem in seen.inline_problems]
        self.assertEqual(problems, [], "\n".join(problems))

    def test_it_sends_a_strict_content_security_policy_with_every_page_s1(self) -> None:
        for seen in self.seen:
            if not seen.html:
                continue
            policy = _policy(seen.headers.get("Content-Security-Policy", ""))
            with self.subTest(seen.where):
                self.assertEqual({name: policy.get(name) for name in STRICT_DIRECTIVES}, STRICT_DIRECTIVES)
                for directive in ("default-src", "script-src", "style-src"):
                    self.assertEqual(set(policy[directive]) & NEVER_ALLOWED, set(), directive)

    def test_it_sends_the_browser_protections_with_every_response_s1(self) -> None:
        for seen in self.seen:
            with self.subTest(seen.where):
                self.assertEqual({name: seen.headers.get(name) for name in PROTECTIONS}, PROTECTIONS)

    def test_it_lets_no_cache_keep_a_response_to_a_signed_in_person_s1(self) -> None:
        """Their user ID is on every page (and their records on many): nothing may be kept on the way.

        A 204 (the API's log-out) has no content to keep.
        """
        kept = [
            f"{seen.where}: {seen.headers.get('Cache-Control')!r}"
            for seen in self.seen
            if seen.actor != "anonymous"
            and seen.status < 400
            and seen.status != 204
            and "no-store" not in seen.headers.get("Cache-Control", "")
        ]
        self.assertEqual(kept, [], "\n".join(kept))

    def test_it_finds_every_canary_where_it_belongs(self) -> None:
        """The access sweep is not blind: each canary and record ID of the world it is run on shows on
        some page to those entitled to it. (Checked on this class's sweep, which reads as they do.)
        """
        seen = {name for found in self.seen if found.actor in world.ENTITLED for name in found.secrets}
        unseen = self.hidden - seen - world.NEVER_SHOWN
        self.assertEqual(unseen, set(), "canaries no entitled person could see: the sweep would miss their leaks")
