#!/usr/bin/python3
"""The node-vault client (npm) against a dev server: runs tests/e2e/node/kv_roundtrip.js, which
uses node-vault as an application would (TLS verified with the dev CA, KV v2 write/read/
versions/list/delete, 404 and 403 rejections, token creation) and exits 0 only when every check
passed.

The npm packages are installed by scripts/install-deps.sh (npm ci into tests/e2e/node); when
they are missing this test fails rather than skips, so a broken setup cannot pass unnoticed.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coffer_harness as h  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
SCRIPT = os.path.join(NODE_DIR, "kv_roundtrip.js")
NODE_VAULT = os.path.join(NODE_DIR, "node_modules", "node-vault", "package.json")
SCRIPT_TIMEOUT = 120  # seconds; every request inside has its own 10 s timeout

# Variables that would change what node-vault or Node's TLS stack does behind the test's back:
# skip verification, trust other CAs, route through a proxy, prefix paths.
_SCRUBBED_ENV = (
    "VAULT_SKIP_VERIFY", "VAULT_NAMESPACE", "VAULT_PREFIX", "VAULT_ADDR", "VAULT_TOKEN",
    "VAULT_CACERT", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)


@h.require_binary
class NodeVaultTest(unittest.TestCase):
    def setUp(self):
        self.node = shutil.which("node")
        if self.node is None:
            self.fail("node is not on PATH: run scripts/install-deps.sh")
        if not os.path.exists(NODE_VAULT):
            self.fail("node-vault is not installed in %s: run scripts/install-deps.sh "
                      "(it runs npm ci there)" % NODE_DIR)
        tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-")
        self.addCleanup(tmp.cleanup)
        self.root_token = "e2e-root-" + uuid.uuid4().hex
        self.server = h.CofferServer.dev(tmp.name, root_token=self.root_token)
        self.addCleanup(self.server.kill)
        self.server.start()

    def test_node_vault_kv_v2_roundtrip(self):
        self.assertTrue(self.server.tls, "dev server is expected to listen with TLS")
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
        env.update({
            "VAULT_ADDR": self.server.url,
            "VAULT_TOKEN": self.root_token,
            "VAULT_CACERT": self.server.ca,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        })
        try:
            p = subprocess.run([self.node, SCRIPT], cwd=NODE_DIR, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            self.fail("kv_roundtrip.js did not finish within %ds; output so far:\n%s"
                      % (SCRIPT_TIMEOUT, (e.output or b"").decode("utf-8", "replace")))
        output = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0,
                         "kv_roundtrip.js exited %d:\n%s\n--- server stderr ---\n%s"
                         % (p.returncode, output, self.server.stderr()))
        self.assertIn("0 failed", output)


if __name__ == "__main__":
    unittest.main()
