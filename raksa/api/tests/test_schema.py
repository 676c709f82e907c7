"""Schemathesis against the live OpenAPI schema, in-process (WSGI): no server error, every answer as documented.

Bounded (a few generated cases per operation) so that it adds well under a minute to the suite. It
runs as a logged-in person with a service, an agency and a published policy in the database, so
generated requests reach the views rather than stopping at authentication.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from raksa.accounts import actions
from raksa.services.tests import builders
from raksa.testing import accounts as personas

MAX_EXAMPLES = 4
# Not "positive data acceptance": the web's own forms refuse some schema-valid values (an e-mail
# address that is a string but not an address, a made-up cursor) with 422, as they should.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def connections_stay_open() -> Iterator[None]:
    """As Django's test client does: the WSGI handler would close the connection that holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(connections_stay_open: None) -> str:
    personas.platform_operator()
    personas.platform_policy()
    builders.certificate(builders.agency(), fields=("name", "email"))
    raw, _expires = actions.log_in_app(user=personas.citizen("malee"))
    return raw


# Fetched from the running application, as a client would (no database is needed to serve it).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.mark.django_db(databases="__all__")
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_it_answers_every_generated_request_as_the_schema_says(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}, checks=CHECKS)
