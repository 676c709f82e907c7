"""The test suite's settings: the site's own, plus apps that exist only for tests.

Test-only apps migrate only into the test databases: `raksa makemigrations` runs under
raksa.settings, which does not install them, so their models never reach production.
"""

from raksa.settings import *  # noqa: F403
from raksa.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "raksa.vault.tests.vaultcase"]
