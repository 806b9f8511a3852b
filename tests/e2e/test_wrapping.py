#!/usr/bin/python3
"""Response wrapping end to end (vault-api.md §2.10) through hvac 0.11.2 and raw HTTP:
X-Vault-Wrap-TTL on a KV v2 read (the read fast path renders JSON text, which must be wrapped
like any other body), sys/wrapping/wrap|unwrap|lookup|rewrap, single use, TTL expiry, and the
min/max_wrapping_ttl policy bounds.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvac.exceptions as hexc  # noqa: E402

import coffer_harness as h  # noqa: E402


@h.require_binary
class WrappingTest(h.DevServerCase):

    def put_secret(self, value):
        path = h.unique("wrapped")
        self.root.secrets.kv.v2.create_or_update_secret(path=path, secret={"v": value})
        return path

    def test_wrapped_kv_read_unwraps_once(self):
        canary = "canary-" + h.unique("w")
        path = self.put_secret(canary)
        wrapped = self.root.read("secret/data/" + path, wrap_ttl="60s")
        info = wrapped["wrap_info"]
        self.assertIsNone(wrapped["data"])
        self.assertNotIn(canary, str(wrapped))
        self.assertEqual(info["ttl"], 60)
        self.assertEqual(info["creation_path"], "secret/data/" + path)
        self.assertTrue(info["token"].startswith("hvs."))
        self.assertTrue(info["accessor"])

        lookup = self.raw("POST", "sys/wrapping/lookup", token="",
                          json={"token": info["token"]})
        self.assertEqual(lookup.status_code, 200, lookup.text)
        # Unauthenticated, so metadata only (SECURITY.md §6 H79): never the wrapped data.
        self.assertNotIn(canary, lookup.text)
        self.assertEqual(set(lookup.json()["data"]),
                         {"creation_path", "creation_time", "creation_ttl"})
        self.assertEqual(lookup.json()["data"]["creation_path"], "secret/data/" + path)
        self.assertEqual(lookup.json()["data"]["creation_ttl"], 60)

        unwrapped = self.root.sys.unwrap(token=info["token"])
        self.assertEqual(unwrapped["data"]["data"], {"v": canary})
        self.assertEqual(unwrapped["data"]["metadata"]["version"], 1)

        # Single use: the second unwrap and a lookup both fail, and the token is gone.
        with self.assertRaises(hexc.InvalidRequest):
            self.root.sys.unwrap(token=info["token"])
        again = self.raw("POST", "sys/wrapping/lookup", token="", json={"token": info["token"]})
        self.assertEqual(again.status_code, 400, again.text)
        self.assertIn("wrapping token is not valid or does not exist", again.json()["errors"][0])

    def test_unwrap_with_the_wrapping_token_as_client_token(self):
        path = self.put_secret("self-unwrap")
        info = self.root.read("secret/data/" + path, wrap_ttl=30)["wrap_info"]
        resp = self.raw("POST", "sys/wrapping/unwrap", token=info["token"])
        self.assertEqual(resp.status_code, 200, resp.text)
        self.assertEqual(resp.json()["data"]["data"], {"v": "self-unwrap"})

    def test_wrap_arbitrary_data_and_rewrap(self):
        resp = self.raw("POST", "sys/wrapping/wrap", json={"answer": "42", "n": 7},
                        headers={"X-Vault-Wrap-TTL": "120"})
        self.assertEqual(resp.status_code, 200, resp.text)
        first = resp.json()["wrap_info"]
        self.assertEqual(first["creation_path"], "sys/wrapping/wrap")

        resp = self.raw("POST", "sys/wrapping/rewrap", json={"token": first["token"]})
        self.assertEqual(resp.status_code, 200, resp.text)
        second = resp.json()["wrap_info"]
        self.assertNotEqual(second["token"], first["token"])
        self.assertEqual(second["creation_path"], "sys/wrapping/wrap")
        # The old token died with the rewrap; the new one holds the same data.
        with self.assertRaises(hexc.InvalidRequest):
            self.root.sys.unwrap(token=first["token"])
        self.assertEqual(self.root.sys.unwrap(token=second["token"])["data"],
                         {"answer": "42", "n": 7})

    def test_wrap_without_ttl_is_refused(self):
        resp = self.raw("POST", "sys/wrapping/wrap", json={"a": "b"})
        self.assertEqual(resp.status_code, 400, resp.text)

    def test_wrapping_token_expires(self):
        path = self.put_secret("short-lived")
        info = self.root.read("secret/data/" + path, wrap_ttl=1)["wrap_info"]
        time.sleep(2.2)
        # Vault: 400, the expired token is as good as unknown.
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.root.sys.unwrap(token=info["token"])
        self.assertEqual(ctx.exception.errors, ["wrapping token is not valid or does not exist"])

    def test_policy_wrapping_ttl_bounds(self):
        path = self.put_secret("bounded")
        self.root.sys.create_or_update_policy(name="wrap-bounds", policy=(
            'path "secret/data/%s" {\n  capabilities = ["read"]\n'
            '  min_wrapping_ttl = "10s"\n  max_wrapping_ttl = "60s"\n}\n' % path))
        token = self.root.auth.token.create(policies=["wrap-bounds"], ttl="5m")["auth"]["client_token"]
        # Out of bounds is a policy denial (403), as in Vault's ACL check.
        for ttl, status in (("5s", 403), ("90s", 403), ("30s", 200)):
            resp = self.raw("GET", "secret/data/" + path, token=token,
                            headers={"X-Vault-Wrap-TTL": ttl})
            self.assertEqual(resp.status_code, status, (ttl, resp.text))
            if status == 403:
                self.assertIn("wrapping TTL outside the policy's bounds", resp.text)
            else:
                self.assertIn("token", resp.json()["wrap_info"])
        # Without wrapping the policy requires it (min_wrapping_ttl set): refused.
        resp = self.raw("GET", "secret/data/" + path, token=token)
        self.assertEqual(resp.status_code, 403, resp.text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
