"""Mozilla's HTTP Observatory grades Raksa served like production, over TLS on this machine (S1).

The scanner (npm @mdn/mdn-http-observatory, from package-lock.json) only scans a host name on the
standard ports: Raksa is served by gunicorn with production settings on 127.0.0.1:443 (TLS, with a
certificate from a throwaway authority the scanner is told to trust) and on port 80 (plain HTTP,
which must redirect to HTTPS). It runs in `make security`, which sets RAKSA_SECURITY_SCAN=1.
"""

import json
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

from raksa.security.tests import tls

SCANNER = Path(settings.BASE_DIR) / "node_modules" / "@mdn" / "mdn-http-observatory"
# Its 10-second request timeout is meant for the Internet, not for a busy test machine.
SCANNER_ENVIRONMENT = {"ABORT_TIMEOUT": "60000", "CLIENT_TIMEOUT": "60000"}


@unittest.skipUnless(os.environ.get("RAKSA_SECURITY_SCAN") == "1", "the Observatory scan runs in `make security`")
class ObservatoryTests(SimpleTestCase):
    def test_it_earns_an_a_plus_from_mozillas_http_observatory_s1(self) -> None:
        node = tls.node()
        if node is None or not (SCANNER / "src" / "scan.js").exists():
            self.fail("the scanner is missing: `make security` installs it with `npm ci`")
        if not (tls.port_free(443) and tls.port_free(80)):
            self.fail("ports 80 and 443 must be free (and bindable: run as root or grant CAP_NET_BIND_SERVICE)")
        with tempfile.TemporaryDirectory(prefix="raksa-observatory-") as scratch:
            directory = Path(scratch)
            certificates = tls.make_certificates(directory)
            (directory / "var").mkdir()
            env = tls.production_environment(directory / "var")
            tls.prepare(env)
            with tls.gunicorn(env, port=443, certificates=certificates), tls.gunicorn(env, port=80):
                scan = subprocess.run(
                    [node, str(SCANNER / "src" / "scan.js"), "localhost"],
                    env={**os.environ, **SCANNER_ENVIRONMENT, "NODE_EXTRA_CA_CERTS": str(certificates.authority)},
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
        report = json.loads(scan.stdout)
        self.assertNotIn("error", report, scan.stdout + scan.stderr)
        failed = {name: test["result"] for name, test in report["tests"].items() if not test["pass"]}
        self.assertEqual(failed, {})
        self.assertEqual(report["tests"]["redirection"]["result"], "redirection-to-https")
        self.assertEqual(report["tests"]["strict-transport-security"]["maxAge"], 31_536_000)
        self.assertTrue(report["tests"]["strict-transport-security"]["includeSubDomains"])
        self.assertEqual(report["scan"]["grade"], "A+", json.dumps(report["scan"]))
