#!/usr/bin/python3
"""Cubbyhole (per-token private storage) end to end, through hvac 0.11.2's generic
client.read / write / list / delete and raw HTTP for status codes and bodies hvac hides.

Covers SECURITY.md §6 H80: token A writes cubbyhole/x; no other token - not B, not A's child,
not even root - can read it; once A is revoked the data is gone. Also Vault's rules that batch
tokens have no cubbyhole (vault/core/wrapping.cc handle_cubbyhole) and that a response-wrapping
token's cubbyhole dies with the unwrap.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvac.exceptions as hexc  # noqa: E402

import coffer_harness as h  # noqa: E402

unique = h.unique


@h.require_binary
class CubbyholeTest(h.DevServerCase):

    def make_token(self, parent=None, **kwargs):
        """A token (client_token) created by root or by `parent`; policies default to
        ["default"], whose `cubbyhole/*` stanza grants the full cubbyhole."""
        kwargs.setdefault("policies", ["default"])
        client = self.root if parent is None else self.server.hvac(parent)
        return client.auth.token.create(**kwargs)["auth"]["client_token"]

    def creator_policy(self):
        name = unique("cubby-creator")
        self.root.sys.create_or_update_policy(
            name=name, policy='path "auth/token/create" { capabilities = ["create", "update"] }')
        return name

    def assert_absent(self, token, path, canary):
        """GET cubbyhole/<path> with `token` is a 404 that does not carry the canary."""
        r = self.raw("GET", path, token=token)
        self.assertEqual(r.status_code, 404, r.text)
        self.assertNotIn(canary, r.text)
        self.assertIsNone(self.server.hvac(token).read(path))

    def test_h80_each_token_has_its_own_cubbyhole(self):
        canary = "canary-" + unique("cubby")
        # A holds `default` (as every token here) plus the right to create a child.
        a = self.make_token(policies=[self.creator_policy()])
        client_a = self.server.hvac(a)

        resp = client_a.write("cubbyhole/x", v=canary)
        self.assertEqual(resp.status_code, 204, resp.text)
        self.assertEqual(resp.text, "")
        read = client_a.read("cubbyhole/x")
        self.assertEqual(read["data"], {"v": canary})
        self.assertEqual(client_a.list("cubbyhole/")["data"]["keys"], ["x"])
        r = self.raw("LIST", "cubbyhole", token=a)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["keys"], ["x"])

        # Nobody else sees it: not root, not another token, not A's own child.
        b = self.make_token()
        child = self.make_token(parent=a)
        self.assertIs(self.root.auth.token.lookup(child)["data"]["orphan"], False)
        for name, token in (("root", self.root_token), ("B", b), ("child of A", child)):
            with self.subTest(token=name):
                self.assert_absent(token, "cubbyhole/x", canary)
                r = self.raw("LIST", "cubbyhole/", token=token)
                self.assertEqual(r.status_code, 404, r.text)
                self.assertNotIn(canary, r.text)

        # B's write at the same path lands in B's cubbyhole and leaves A's value alone.
        resp = self.server.hvac(b).write("cubbyhole/x", v="from-b")
        self.assertEqual(resp.status_code, 204, resp.text)
        self.assertEqual(self.server.hvac(b).read("cubbyhole/x")["data"], {"v": "from-b"})
        self.assertEqual(client_a.read("cubbyhole/x")["data"], {"v": canary})
        self.assert_absent(self.root_token, "cubbyhole/x", canary)

    def test_nested_paths_list_and_delete(self):
        a = self.make_token()
        client_a = self.server.hvac(a)
        self.assertEqual(client_a.write("cubbyhole/x", v="1").status_code, 204)
        self.assertEqual(client_a.write("cubbyhole/a/b", v="2", w="3").status_code, 204)

        self.assertEqual(client_a.read("cubbyhole/a/b")["data"], {"v": "2", "w": "3"})
        self.assertEqual(client_a.list("cubbyhole/")["data"]["keys"], ["a/", "x"])
        self.assertEqual(client_a.list("cubbyhole/a")["data"]["keys"], ["b"])
        r = self.raw("LIST", "cubbyhole/a/", token=a)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["keys"], ["b"])
        # `a` itself is a folder, not a secret.
        self.assertEqual(self.raw("GET", "cubbyhole/a", token=a).status_code, 404)

        self.assertIsNone(client_a.delete("cubbyhole/x"))
        self.assertIsNone(client_a.read("cubbyhole/x"))
        self.assertEqual(client_a.list("cubbyhole/")["data"]["keys"], ["a/"])
        r = self.raw("DELETE", "cubbyhole/a/b", token=a)
        self.assertEqual(r.status_code, 204, r.text)
        self.assertEqual(self.raw("GET", "cubbyhole/a/b", token=a).status_code, 404)
        # Nothing left: an empty listing is a 404, as in Vault.
        self.assertIsNone(client_a.list("cubbyhole/"))
        self.assertEqual(self.raw("LIST", "cubbyhole/", token=a).status_code, 404)

    def test_cubbyhole_values_have_no_lease(self):
        # Vault's cubbyhole answers a read with the data alone (no lease, lease_duration 0),
        # unlike KV v1, and a `ttl` key is just data: "there is no concept of a TTL for values
        # contained in the token's cubbyhole" (Vault's cubbyhole documentation).
        a = self.make_token()
        client_a = self.server.hvac(a)
        self.assertEqual(client_a.write("cubbyhole/plain", v="1").status_code, 204)
        self.assertEqual(client_a.write("cubbyhole/ttl", v="2", ttl="5m").status_code, 204)
        for path, data in (("cubbyhole/plain", {"v": "1"}),
                           ("cubbyhole/ttl", {"v": "2", "ttl": "5m"})):
            with self.subTest(path=path):
                read = client_a.read(path)
                self.assertEqual(read["data"], data)
                self.assertEqual(read["lease_id"], "")
                self.assertIs(read["renewable"], False)
                self.assertEqual(read["lease_duration"], 0)

    def test_batch_tokens_have_no_cubbyhole(self):
        batch = self.make_token(type="batch", ttl="10m")
        self.assertTrue(batch.startswith("hvb."), batch)
        for method, body in (("POST", {"v": "batch"}), ("GET", None), ("LIST", None),
                             ("DELETE", None)):
            with self.subTest(method=method):
                r = self.raw(method, "cubbyhole/x", token=batch, json=body)
                self.assertEqual(r.status_code, 400, r.text)
                self.assertEqual(r.json()["errors"],
                                 ["cubbyhole is not available to batch tokens"])
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.server.hvac(batch).write("cubbyhole/x", v="batch")
        self.assertEqual(ctx.exception.errors, ["cubbyhole is not available to batch tokens"])

    def test_h80_revoked_token_loses_its_cubbyhole(self):
        canary = "canary-" + unique("revoked")
        token_id = unique("e2e-cubby")  # root may choose the id; reused below
        a = self.make_token(id=token_id)
        self.assertEqual(a, token_id)
        client_a = self.server.hvac(a)
        self.assertEqual(client_a.write("cubbyhole/x", v=canary).status_code, 204)
        self.assertEqual(client_a.write("cubbyhole/a/b", v=canary).status_code, 204)

        self.assertEqual(self.root.auth.token.revoke(a).status_code, 204)
        for method, path, body in (("GET", "cubbyhole/x", None), ("LIST", "cubbyhole/", None),
                                   ("POST", "cubbyhole/y", {"v": "late"}),
                                   ("DELETE", "cubbyhole/x", None)):
            with self.subTest(method=method, path=path):
                r = self.raw(method, path, token=a, json=body)
                self.assertEqual(r.status_code, 403, r.text)
                self.assertEqual(r.json()["errors"], ["permission denied"])
                self.assertNotIn(canary, r.text)
        with self.assertRaises(hexc.Forbidden):
            client_a.read("cubbyhole/x")

        # The data went with the token: a new token given the very same id (so the same
        # storage key) starts with an empty cubbyhole.
        again = self.make_token(id=token_id)
        self.assertEqual(again, token_id)
        self.assert_absent(again, "cubbyhole/x", canary)
        self.assert_absent(again, "cubbyhole/a/b", canary)
        r = self.raw("LIST", "cubbyhole/", token=again)
        self.assertEqual(r.status_code, 404, r.text)

    def test_wrapping_token_cubbyhole_is_gone_after_unwrap(self):
        canary = "canary-" + unique("wrap")
        r = self.raw("POST", "sys/wrapping/wrap", json={"v": canary},
                     headers={"X-Vault-Wrap-TTL": "120"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertNotIn(canary, r.text)
        wrapping = r.json()["wrap_info"]["token"]

        self.assertEqual(self.root.sys.unwrap(token=wrapping)["data"], {"v": canary})
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.root.sys.unwrap(token=wrapping)
        self.assertEqual(ctx.exception.errors, ["wrapping token is not valid or does not exist"])
        r = self.raw("POST", "sys/wrapping/unwrap", token=wrapping)
        self.assertEqual(r.status_code, 403, r.text)
        self.assertNotIn(canary, r.text)
        r = self.raw("GET", "cubbyhole/response", token=wrapping)
        self.assertEqual(r.status_code, 403, r.text)
        self.assertNotIn(canary, r.text)

    def test_wrapping_token_is_single_use_through_its_cubbyhole_too(self):
        # The response-wrapping policy lets the wrapping token read cubbyhole/response (Vault's
        # legacy way to unwrap). Vault makes wrapping tokens single-use (NumUses 1), so that
        # read spends the token: whoever intercepts the token and reads the data this way
        # cannot leave it looking untouched - the recipient's unwrap fails (SECURITY.md §1.6,
        # "detects interception").
        canary = "canary-" + unique("legacy")
        r = self.raw("POST", "sys/wrapping/wrap", json={"v": canary},
                     headers={"X-Vault-Wrap-TTL": "120"})
        self.assertEqual(r.status_code, 200, r.text)
        wrapping = r.json()["wrap_info"]["token"]

        first = self.raw("GET", "cubbyhole/response", token=wrapping)
        self.assertEqual(first.status_code, 200, first.text)
        second = self.raw("GET", "cubbyhole/response", token=wrapping)
        self.assertEqual(second.status_code, 403, second.text)
        self.assertNotIn(canary, second.text)
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.root.sys.unwrap(token=wrapping)
        self.assertEqual(ctx.exception.errors, ["wrapping token is not valid or does not exist"])
        # Nor may the token write its own cubbyhole (the policy grants create on
        # cubbyhole/response only; the one use is gone anyway).
        r = self.raw("POST", "cubbyhole/response", token=wrapping, json={"v": "forged"})
        self.assertEqual(r.status_code, 403, r.text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
