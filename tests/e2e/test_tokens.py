#!/usr/bin/python3
"""Token store (auth/token/) end to end, driven through hvac 0.11.2 (auth.token.* and the legacy
client.create_token / lookup_token / revoke_token / renew_token helpers) against a dev server.

Covers vault-api.md §3 and SECURITY.md §6 D35 (token/accessor uniqueness and format), D38
(revoke-orphan needs sudo; children survive as orphans), D39 (child policies are a subset of the
parent's; `default` only if the parent has it), D40 (num_uses), D41 (TTL expiry, renewal after
expiry, explicit_max_ttl clipping), D43 (batch tokens), cascading revocation and token roles.
Expected values are HashiCorp Vault's behaviour.
"""

import datetime
import http.client
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvac.exceptions as hexc  # noqa: E402

import coffer_harness as h  # noqa: E402

SERVICE_TOKEN_RE = re.compile(r"^hvs\.[A-Za-z0-9]{24,}$")
# Batch tokens are self-contained encrypted blobs in Vault (base64url after the prefix).
BATCH_TOKEN_RE = re.compile(r"^hvb\.[A-Za-z0-9_-]{24,}$")
ACCESSOR_RE = re.compile(r"^[A-Za-z0-9]{24,}$")
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DEFAULT_TTL = 768 * 3600  # system default lease TTL (vault-api.md §1.9)


unique = h.unique


class DevServerCase(h.DevServerCase):
    """Shared dev-server base from the harness."""

    def client(self, token):
        return self.server.hvac(token)

    def put_policy(self, name, text):
        self.root.sys.create_or_update_policy(name=name, policy=text)
        return name

    def create(self, parent=None, **kwargs):
        """auth.token.create through hvac; returns the auth block."""
        client = self.root if parent is None else self.client(parent)
        return client.auth.token.create(**kwargs)["auth"]

    def assert_token_dead(self, token):
        """The token can no longer be used and a root lookup says `bad token` (403)."""
        r = self.raw("GET", "auth/token/lookup-self", token=token)
        self.assertEqual(r.status_code, 403, r.text)
        r = self.raw("POST", "auth/token/lookup", json={"token": token})
        self.assertEqual(r.status_code, 403, r.text)

    def assert_token_alive(self, token):
        r = self.raw("GET", "auth/token/lookup-self", token=token)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["data"]

    def creator_policy(self):
        """A policy that may create child tokens (but has no sudo)."""
        return self.put_policy(unique("creator"), """
            path "auth/token/create" { capabilities = ["create", "update"] }
            path "auth/token/create-orphan" { capabilities = ["create", "update"] }
        """)


@h.require_binary
class TokenCreateLookupTest(DevServerCase):

    def test_create_returns_vault_auth_block(self):
        app = self.put_policy(unique("app"), 'path "secret/data/app/*" { capabilities = ["read"] }')
        resp = self.root.auth.token.create(policies=[app], meta={"team": "blue"}, ttl="1h")
        self.assertIsNone(resp["data"])
        auth = resp["auth"]
        self.assertRegex(auth["client_token"], SERVICE_TOKEN_RE)
        self.assertRegex(auth["accessor"], ACCESSOR_RE)
        self.assertEqual(auth["policies"], sorted(["default", app]))
        self.assertEqual(auth["token_policies"], sorted(["default", app]))
        self.assertEqual(auth["metadata"], {"team": "blue"})
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertIs(auth["renewable"], True)
        self.assertEqual(auth["token_type"], "service")
        self.assertIs(auth["orphan"], False)
        self.assertEqual(auth["entity_id"], "")
        self.assertEqual(auth["num_uses"], 0)

    def test_defaults_without_ttl_and_without_meta(self):
        auth = self.create(policies=["default"])
        self.assertEqual(auth["lease_duration"], DEFAULT_TTL)
        self.assertIsNone(auth["metadata"])
        self.assertEqual(auth["policies"], ["default"])
        # A root child without policies inherits root and never expires.
        auth = self.create()
        self.assertEqual(auth["policies"], ["root"])
        self.assertEqual(auth["lease_duration"], 0)
        data = self.client(auth["client_token"]).auth.token.lookup_self()["data"]
        self.assertEqual(data["ttl"], 0)
        self.assertIsNone(data["expire_time"])

    def test_lookup_fields(self):
        app = self.put_policy(unique("app"), 'path "secret/data/x" { capabilities = ["read"] }')
        before = int(time.time())
        auth = self.create(policies=[app], meta={"k": "v"}, ttl="1h", explicit_max_ttl="2h",
                           display_name="my_app.1", num_uses=5)
        token, accessor = auth["client_token"], auth["accessor"]

        data = self.root.auth.token.lookup(token)["data"]
        self.assertEqual(data["id"], token)
        self.assertEqual(data["accessor"], accessor)
        self.assertIsInstance(data["creation_time"], int)
        self.assertLessEqual(abs(data["creation_time"] - before), 60)
        self.assertEqual(data["creation_ttl"], 3600)
        self.assertEqual(data["display_name"], "token-my-app-1")
        self.assertEqual(data["entity_id"], "")
        self.assertEqual(data["explicit_max_ttl"], 7200)
        self.assertEqual(data["meta"], {"k": "v"})
        self.assertEqual(data["num_uses"], 5)
        self.assertIs(data["orphan"], False)
        self.assertEqual(data["path"], "auth/token/create")
        self.assertEqual(data["policies"], sorted(["default", app]))
        self.assertIs(data["renewable"], True)
        self.assertTrue(3590 <= data["ttl"] <= 3600, data["ttl"])
        self.assertEqual(data["type"], "service")
        self.assertRegex(data["expire_time"], RFC3339_RE)
        expire = datetime.datetime.strptime(data["expire_time"][:19], "%Y-%m-%dT%H:%M:%S")
        if data["expire_time"].endswith("Z"):
            expire = expire.replace(tzinfo=datetime.timezone.utc)
            self.assertLessEqual(abs(expire.timestamp() - (before + 3600)), 60)
        self.assertIsInstance(data["issue_time"], str)

        by_accessor = self.root.auth.token.lookup_accessor(accessor)["data"]
        self.assertEqual(by_accessor["id"], "")  # never reveals the token
        self.assertEqual(by_accessor["accessor"], accessor)
        self.assertEqual(by_accessor["policies"], data["policies"])
        self.assertEqual(by_accessor["display_name"], "token-my-app-1")

        # Root lookups do not spend the token's uses; one use by the token itself does.
        self.assertEqual(self.root.auth.token.lookup(token)["data"]["num_uses"], 5)
        own = self.client(token).auth.token.lookup_self()["data"]
        self.assertEqual(own["id"], token)
        self.assertEqual(self.root.auth.token.lookup(token)["data"]["num_uses"], 4)

    def test_root_token_lookup_self(self):
        data = self.root.auth.token.lookup_self()["data"]
        self.assertEqual(data["id"], self.root_token)
        self.assertEqual(data["policies"], ["root"])
        self.assertEqual(data["path"], "auth/token/root")
        self.assertEqual(data["display_name"], "root")
        self.assertEqual(data["ttl"], 0)
        self.assertIsNone(data["expire_time"])
        self.assertIs(data["orphan"], True)
        self.assertRegex(data["accessor"], ACCESSOR_RE)

    def test_hvac_default_display_name_and_bearer_header(self):
        auth = self.create(policies=["default"])  # hvac always sends display_name "token"
        data = self.root.auth.token.lookup(auth["client_token"])["data"]
        self.assertEqual(data["display_name"], "token-token")
        r = self.server.request("GET", "auth/token/lookup-self",
                                headers={"Authorization": "Bearer " + auth["client_token"]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["id"], auth["client_token"])

    def test_bad_tokens_are_403(self):
        r = self.raw("GET", "auth/token/lookup-self", token="hvs." + "A" * 24)
        self.assertEqual(r.status_code, 403, r.text)
        self.assertIn("permission denied", r.json()["errors"])
        r = self.raw("POST", "auth/token/lookup", json={"token": "hvs." + "B" * 24})
        self.assertEqual(r.status_code, 403, r.text)
        self.assertIn("bad token", r.json()["errors"])
        with self.assertRaises(hexc.Forbidden):
            self.client("not-a-token").auth.token.lookup_self()
        self.assertFalse(self.client("not-a-token").is_authenticated())

    def test_legacy_client_helpers(self):
        # client.create_token sends explicit nulls (display_name, num_uses, ttl...): all "unset".
        resp = self.root.create_token(policies=["default"], ttl="10m", meta={"a": "b"})
        token = resp["auth"]["client_token"]
        self.assertRegex(token, SERVICE_TOKEN_RE)
        self.assertEqual(resp["auth"]["lease_duration"], 600)
        self.assertEqual(resp["auth"]["policies"], ["default"])

        data = self.root.lookup_token(token)["data"]
        self.assertEqual(data["id"], token)
        self.assertEqual(data["display_name"], "token")
        self.assertEqual(data["meta"], {"a": "b"})
        self.assertEqual(data["num_uses"], 0)
        by_acc = self.root.lookup_token(resp["auth"]["accessor"], accessor=True)["data"]
        self.assertEqual(by_acc["accessor"], resp["auth"]["accessor"])

        user = self.client(token)
        self.assertTrue(user.is_authenticated())
        self.assertEqual(user.lookup_token()["data"]["id"], token)
        renewed = self.root.renew_token(token, increment=1200)
        self.assertEqual(renewed["auth"]["lease_duration"], 1200)

        orphan = self.root.create_token(policies=["default"], orphan=True)["auth"]
        self.assertIs(orphan["orphan"], True)
        self.assertIs(self.root.lookup_token(orphan["client_token"])["data"]["orphan"], True)

        self.root.revoke_token(token)
        self.assertFalse(user.is_authenticated())
        self.root.revoke_token(orphan["accessor"], accessor=True)
        self.assert_token_dead(orphan["client_token"])

    def test_custom_id_and_sudo_only_options(self):
        custom = unique("e2e-custom")
        auth = self.create(id=custom, policies=["default"])
        self.assertEqual(auth["client_token"], custom)
        self.assertEqual(self.client(custom).auth.token.lookup_self()["data"]["id"], custom)
        for bad_id in ("has.dot", "hvs." + "C" * 24):
            with self.subTest(id=bad_id), self.assertRaises(hexc.InvalidRequest):
                self.create(id=bad_id, policies=["default"])

        # A parent without sudo may not pick the id, make an orphan via no_parent, or a
        # periodic token (vault-api.md §1.8/§3.1) - but may use create-orphan.
        creator = self.creator_policy()
        parent = self.create(policies=[creator])["client_token"]
        for kwargs in ({"id": unique("e2e-nosudo")}, {"no_parent": True}, {"period": "1h"}):
            with self.subTest(**kwargs), self.assertRaises(hexc.InvalidRequest):
                self.create(parent=parent, policies=["default"], **kwargs)
        r = self.raw("POST", "auth/token/create-orphan", token=parent,
                     json={"policies": ["default"]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIs(r.json()["auth"]["orphan"], True)

        orphan = self.create(no_parent=True, policies=["default"])
        self.assertIs(orphan["orphan"], True)

    def test_weak_decoding_and_limits(self):
        a = self.put_policy(unique("a"), 'path "secret/data/a" { capabilities = ["read"] }')
        b = self.put_policy(unique("b"), 'path "secret/data/b" { capabilities = ["read"] }')
        # policies as a comma-separated string, ttl as a number of seconds.
        r = self.raw("POST", "auth/token/create", json={"policies": "%s,%s" % (a, b),
                                                       "ttl": 90, "num_uses": "3"})
        self.assertEqual(r.status_code, 200, r.text)
        auth = r.json()["auth"]
        self.assertEqual(auth["policies"], sorted(["default", a, b]))
        self.assertEqual(auth["lease_duration"], 90)
        self.assertEqual(auth["num_uses"], 3)
        # A TTL beyond the mount maximum is capped to it (768h).
        auth = self.create(policies=["default"], ttl="1000h")
        self.assertEqual(auth["lease_duration"], DEFAULT_TTL)
        r = self.raw("POST", "auth/token/create", json={"policies": ["default"], "num_uses": -1})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("POST", "auth/token/create", json={"policies": ["default"], "ttl": "soon"})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("POST", "auth/token/create", json={"policies": ["default"], "type": "odd"})
        self.assertEqual(r.status_code, 400, r.text)

    def test_internal_policies_cannot_be_assigned(self):
        # Vault refuses "response-wrapping" (and "control-group") on any token.
        r = self.raw("POST", "auth/token/create",
                     json={"policies": ["default", "response-wrapping"]})
        self.assertEqual(r.status_code, 400, r.text)

    def test_unknown_policy_warning(self):
        missing = unique("missing")
        resp = self.root.auth.token.create(policies=[missing])
        self.assertEqual(resp["auth"]["policies"], sorted(["default", missing]))
        self.assertIn('Policy "%s" does not exist' % missing, resp["warnings"] or [])

    def test_tidy(self):
        resp = self.root.auth.token.tidy()  # Vault: 202 Accepted with a warning
        self.assertEqual(resp.status_code, 202, resp.text)

    def test_period_token_renews_to_period(self):
        auth = self.create(policies=["default"], period="2m")
        self.assertEqual(auth["lease_duration"], 120)
        renewed = self.client(auth["client_token"]).auth.token.renew_self(increment=3600)
        self.assertEqual(renewed["auth"]["lease_duration"], 120)


@h.require_binary
class TokenUniquenessTest(DevServerCase):

    def test_d35_ten_thousand_tokens_and_accessors_are_unique_and_well_formed(self):
        count = 10000
        tokens, accessors = set(), set()
        # One keep-alive connection and no hvac: the client's own overhead (~1 ms a request
        # through hvac) would otherwise double the run time; the server does the same work.
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=h.HTTP_TIMEOUT,
                                           context=h.client_tls_context(self.server.ca))
        self.addCleanup(conn.close)
        body = json.dumps({"policies": ["default"], "ttl": "1h"})
        headers = {"X-Vault-Token": self.root_token, "Content-Type": "application/json"}
        for _ in range(count):
            conn.request("POST", "/v1/auth/token/create", body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            self.assertEqual(resp.status, 200, text)
            auth = json.loads(text)["auth"]
            self.assertRegex(auth["client_token"], SERVICE_TOKEN_RE)
            self.assertRegex(auth["accessor"], ACCESSOR_RE)
            self.assertNotEqual(auth["client_token"], auth["accessor"])
            tokens.add(auth["client_token"])
            accessors.add(auth["accessor"])
        self.assertEqual(len(tokens), count)
        self.assertEqual(len(accessors), count)
        bodies = {t[len("hvs."):] for t in tokens}
        self.assertFalse(bodies & accessors, "a token body equals an accessor")
        # Token bodies and accessors are uniform base62: over 240,000 characters each, every
        # symbol's share is within 10 % of 1/62 (about 6 standard deviations). A constant or
        # hex-only generator fails this, and so does `byte % 62`, whose first 8 symbols come
        # up 21 % too often.
        for name, strings in (("token bodies", bodies), ("accessors", accessors)):
            counts = {}
            for string in strings:
                for ch in string:
                    counts[ch] = counts.get(ch, 0) + 1
            self.assertEqual(len(counts), 62, (name, sorted(counts)))
            mean = sum(counts.values()) / 62
            self.assertLess(max(counts.values()), 1.1 * mean, (name, counts))
            self.assertGreater(min(counts.values()), 0.9 * mean, (name, counts))

        # LIST auth/token/accessors (root) includes them.
        listed = set(self.root.auth.token.list_accessors()["data"]["keys"])
        self.assertTrue(accessors <= listed)


@h.require_binary
class TokenHierarchyTest(DevServerCase):

    def test_d39_child_policies_must_be_subset_of_parent(self):
        creator = self.creator_policy()
        admin = self.put_policy(unique("admin"), 'path "sys/*" { capabilities = ["sudo", "read"] }')
        parent = self.create(policies=[creator])["client_token"]

        # Vault: 400 "child policies must be subset of parent".
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.create(parent=parent, policies=[admin])
        self.assertIn("child policies must be subset of parent", ctx.exception.errors)
        with self.assertRaises(hexc.InvalidRequest):
            self.create(parent=parent, policies=[creator, admin])
        r = self.raw("POST", "auth/token/create", token=parent, json={"policies": ["root"]})
        self.assertEqual(r.status_code, 400, r.text)

        child = self.create(parent=parent, policies=[creator])
        self.assertEqual(child["policies"], sorted(["default", creator]))
        # Without `policies` the child inherits the parent's.
        inherited = self.create(parent=parent)
        self.assertEqual(inherited["policies"], sorted(["default", creator]))

        # A parent without `default` cannot hand it out.
        bare = self.create(policies=[creator], no_default_policy=True)
        self.assertEqual(bare["policies"], [creator])
        child = self.create(parent=bare["client_token"], policies=[creator])
        self.assertEqual(child["policies"], [creator])
        # ...not even alongside a policy it holds (Vault: 400, token_store.cc).
        r = self.raw("POST", "auth/token/create", token=bare["client_token"],
                     json={"policies": [creator, "default"]})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["errors"], ["child policies must be subset of parent"])
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.create(parent=bare["client_token"], policies=["default"])
        self.assertEqual(ctx.exception.errors, ["child policies must be subset of parent"])
        # Root (sudo) may grant anything.
        self.assertEqual(self.create(policies=[admin])["policies"], sorted(["default", admin]))
        self.assertEqual(self.create(policies=[admin], no_default_policy=True)["policies"],
                         [admin])

    def test_revoke_cascades_to_all_descendants(self):
        creator = self.creator_policy()
        parent = self.create(policies=[creator])["client_token"]
        child = self.create(parent=parent, policies=[creator])["client_token"]
        grandchild = self.create(parent=child, policies=["default"])["client_token"]
        sibling = self.create(policies=["default"])["client_token"]
        self.assertIs(self.root.auth.token.lookup(grandchild)["data"]["orphan"], False)

        resp = self.root.auth.token.revoke(parent)
        self.assertEqual(resp.status_code, 204)
        for token in (parent, child, grandchild):
            self.assert_token_dead(token)
        self.assert_token_alive(sibling)

    def test_revoke_accessor_and_revoke_self(self):
        creator = self.creator_policy()
        parent = self.create(policies=[creator])
        child = self.create(parent=parent["client_token"], policies=["default"])["client_token"]
        resp = self.root.auth.token.revoke_accessor(parent["accessor"])
        self.assertEqual(resp.status_code, 204)
        self.assert_token_dead(parent["client_token"])
        self.assert_token_dead(child)

        parent = self.create(policies=[creator])["client_token"]
        child = self.create(parent=parent, policies=["default"])["client_token"]
        resp = self.client(parent).auth.token.revoke_self()
        self.assertEqual(resp.status_code, 204)
        self.assert_token_dead(parent)
        self.assert_token_dead(child)

    def test_d38_revoke_orphan_needs_sudo_and_children_survive(self):
        creator = self.creator_policy()
        no_sudo = self.put_policy(unique("orphaner"), """
            path "auth/token/revoke-orphan" { capabilities = ["create", "update"] }
            path "auth/token/lookup" { capabilities = ["update"] }
        """)
        with_sudo = self.put_policy(unique("orphaner-sudo"), """
            path "auth/token/revoke-orphan" { capabilities = ["create", "update", "sudo"] }
        """)
        parent = self.create(policies=[creator])["client_token"]
        child = self.create(parent=parent, policies=[creator])["client_token"]
        grandchild = self.create(parent=child, policies=["default"])["client_token"]

        weak = self.client(self.create(policies=[no_sudo])["client_token"])
        # Vault's handler refuses with 400 ("root or sudo privileges required to revoke and
        # orphan"); a 403 from the ACL layer is an equally firm refusal.
        with self.assertRaises((hexc.InvalidRequest, hexc.Forbidden)):
            weak.auth.token.revoke_and_orphan_children(parent)
        self.assert_token_alive(parent)

        strong = self.client(self.create(policies=[with_sudo])["client_token"])
        resp = strong.auth.token.revoke_and_orphan_children(parent)
        self.assertEqual(resp.status_code, 204)
        self.assert_token_dead(parent)
        data = self.assert_token_alive(child)
        self.assertIs(data["orphan"], True)
        self.assert_token_alive(grandchild)
        self.assertIs(self.root.auth.token.lookup(grandchild)["data"]["orphan"], False)

        # Legacy helper, root: same semantics.
        parent = self.create(policies=[creator])["client_token"]
        child = self.create(parent=parent, policies=["default"])["client_token"]
        self.root.revoke_token(parent, orphan=True)
        self.assert_token_dead(parent)
        self.assertIs(self.assert_token_alive(child)["orphan"], True)

    def test_list_accessors_needs_sudo(self):
        no_sudo = self.put_policy(unique("lister"), """
            path "auth/token/accessors" { capabilities = ["list", "read"] }
            path "auth/token/accessors/" { capabilities = ["list", "read"] }
        """)
        with_sudo = self.put_policy(unique("lister-sudo"), """
            path "auth/token/accessors" { capabilities = ["list", "sudo"] }
            path "auth/token/accessors/" { capabilities = ["list", "sudo"] }
        """)
        weak = self.client(self.create(policies=[no_sudo])["client_token"])
        with self.assertRaises(hexc.Forbidden):
            weak.auth.token.list_accessors()
        strong_auth = self.create(policies=[with_sudo])
        keys = self.client(strong_auth["client_token"]).auth.token.list_accessors()["data"]["keys"]
        self.assertIn(strong_auth["accessor"], keys)


@h.require_binary
class TokenLifetimeTest(DevServerCase):

    def test_d40_num_uses_one_allows_exactly_one_request(self):
        auth = self.create(policies=["default"], num_uses=1)
        self.assertEqual(auth["num_uses"], 1)
        token = auth["client_token"]
        r = self.raw("GET", "auth/token/lookup-self", token=token)
        self.assertEqual(r.status_code, 200, r.text)
        r = self.raw("GET", "auth/token/lookup-self", token=token)
        self.assertEqual(r.status_code, 403, r.text)
        self.assert_token_dead(token)

    def test_num_uses_two_then_revoked(self):
        token = self.create(policies=["default"], num_uses=2)["client_token"]
        user = self.client(token)
        user.auth.token.lookup_self()
        user.auth.token.lookup_self()
        with self.assertRaises(hexc.Forbidden):
            user.auth.token.lookup_self()

    def test_d41_ttl_expiry_and_renew_after_expiry(self):
        auth = self.create(policies=["default"], ttl="2s")
        created = time.monotonic()  # the token was created before this instant
        token = auth["client_token"]
        self.assertEqual(auth["lease_duration"], 2)
        self.assertEqual(self.raw("GET", "auth/token/lookup-self", token=token).status_code, 200)
        # One request 3 s after creation: a 2 s token must be dead by then, not eventually.
        time.sleep(max(0.0, created + 3.0 - time.monotonic()))
        r = self.raw("GET", "auth/token/lookup-self", token=token)
        self.assertEqual(r.status_code, 403, "token still usable 3 s after its 2 s TTL: " + r.text)
        self.assertEqual(r.json()["errors"], ["permission denied"])
        r = self.raw("POST", "auth/token/renew-self", token=token, json={"increment": 3600})
        self.assertEqual(r.status_code, 403, r.text)
        # Renewing it on its behalf also fails: it no longer exists (Vault: 400 "token not
        # found" for auth/token/renew, 403 for a lookup).
        r = self.raw("POST", "auth/token/renew", json={"token": token, "increment": 3600})
        self.assertIn(r.status_code, (400, 403), r.text)
        self.assert_token_dead(token)

    def test_renew_variants(self):
        auth = self.create(policies=["default"], ttl="1h")
        token, accessor = auth["client_token"], auth["accessor"]
        renewed = self.root.auth.token.renew(token, increment="2h")["auth"]
        self.assertEqual(renewed["client_token"], token)
        self.assertEqual(renewed["lease_duration"], 7200)
        self.assertIs(renewed["renewable"], True)
        self.assertEqual(renewed["policies"], ["default"])

        renewed = self.client(token).auth.token.renew_self(increment=1800)["auth"]
        self.assertEqual(renewed["lease_duration"], 1800)
        self.assertTrue(1790 <= self.root.auth.token.lookup(token)["data"]["ttl"] <= 1800)

        renewed = self.root.auth.token.renew_accessor(accessor, increment=600)["auth"]
        self.assertEqual(renewed["client_token"], "")
        self.assertEqual(renewed["lease_duration"], 600)
        self.assertTrue(590 <= self.root.auth.token.lookup(token)["data"]["ttl"] <= 600)

    def test_non_renewable_token_cannot_be_renewed(self):
        token = self.create(policies=["default"], ttl="1h", renewable=False)["client_token"]
        self.assertIs(self.root.auth.token.lookup(token)["data"]["renewable"], False)
        with self.assertRaises(hexc.InvalidRequest):
            self.root.auth.token.renew(token, increment="2h")
        with self.assertRaises(hexc.InvalidRequest):
            self.client(token).auth.token.renew_self()

    def test_d41_explicit_max_ttl_clips_creation_and_renewal(self):
        auth = self.create(policies=["default"], ttl="1h", explicit_max_ttl="90s")
        self.assertTrue(85 <= auth["lease_duration"] <= 90, auth["lease_duration"])

        auth = self.create(policies=["default"], ttl="30s", explicit_max_ttl="60s")
        self.assertEqual(auth["lease_duration"], 30)
        renewed = self.root.auth.token.renew(auth["client_token"], increment=3600)
        self.assertTrue(50 <= renewed["auth"]["lease_duration"] <= 60, renewed["auth"])
        data = self.root.auth.token.lookup(auth["client_token"])["data"]
        self.assertTrue(data["ttl"] <= 60, data["ttl"])
        self.assertEqual(data["explicit_max_ttl"], 60)


@h.require_binary
class BatchTokenTest(DevServerCase):

    def test_d43_batch_token_shape_and_limits(self):
        creator = self.creator_policy()
        auth = self.create(policies=[creator], type="batch", ttl="10m")
        token = auth["client_token"]
        self.assertRegex(token, BATCH_TOKEN_RE)
        self.assertEqual(auth["token_type"], "batch")
        self.assertEqual(auth["accessor"], "")
        self.assertIs(auth["renewable"], False)
        self.assertEqual(auth["policies"], sorted(["default", creator]))

        data = self.client(token).auth.token.lookup_self()["data"]
        self.assertEqual(data["type"], "batch")
        self.assertEqual(data["id"], token)
        self.assertEqual(data["policies"], sorted(["default", creator]))

        # No children, no renewal (Vault: 400 "batch tokens cannot create more tokens" /
        # "batch tokens cannot be renewed").
        r = self.raw("POST", "auth/token/create", token=token, json={"policies": ["default"]})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("POST", "auth/token/create-orphan", token=token,
                     json={"policies": ["default"]})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("POST", "auth/token/renew-self", token=token, json={})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("POST", "auth/token/renew", json={"token": token})
        self.assertEqual(r.status_code, 400, r.text)

    def test_batch_token_cannot_be_root(self):
        r = self.raw("POST", "auth/token/create", json={"type": "batch", "policies": ["root"]})
        self.assertEqual(r.status_code, 400, r.text)

    def test_batch_token_refuses_service_only_options(self):
        # Vault: 400 'batch tokens cannot have "num_uses" set' (also explicit_max_ttl, period).
        for extra in ({"num_uses": 2}, {"period": "1h"}, {"explicit_max_ttl": "1h"}):
            with self.subTest(**extra):
                body = {"type": "batch", "policies": ["default"]}
                body.update(extra)
                r = self.raw("POST", "auth/token/create", json=body)
                self.assertEqual(r.status_code, 400, r.text)
                self.assertIn(next(iter(extra)), " ".join(r.json()["errors"]))

    def test_batch_token_cannot_be_revoked_directly(self):
        batch = self.create(policies=["default"], type="batch", ttl="1h")["client_token"]
        for path, body, token in (("auth/token/revoke", {"token": batch}, None),
                                  ("auth/token/revoke-self", None, batch),
                                  ("auth/token/revoke-orphan", {"token": batch}, None)):
            with self.subTest(path=path):
                r = self.raw("POST", path, token=token, json=body)
                self.assertEqual(r.status_code, 400, r.text)
                self.assertIn("batch tokens cannot be revoked", r.json()["errors"])
        self.assert_token_alive(batch)

    def test_batch_token_dies_with_its_parent(self):
        creator = self.creator_policy()
        parent = self.create(policies=[creator])["client_token"]
        batch = self.create(parent=parent, policies=["default"], type="batch")["client_token"]
        self.assert_token_alive(batch)
        self.root.auth.token.revoke(parent)
        r = self.raw("GET", "auth/token/lookup-self", token=batch)
        self.assertEqual(r.status_code, 403, r.text)

    def test_batch_token_expires(self):
        batch = self.create(policies=["default"], type="batch", ttl="1s")["client_token"]
        deadline = time.monotonic() + 6
        status = 200
        while time.monotonic() < deadline:
            status = self.raw("GET", "auth/token/lookup-self", token=batch).status_code
            if status != 200:
                break
            time.sleep(0.2)
        self.assertEqual(status, 403)


@h.require_binary
class TokenRoleTest(DevServerCase):

    def test_role_crud_and_list(self):
        name = unique("role")
        with self.assertRaises(hexc.InvalidPath):  # empty list -> 404
            self.root.auth.token.list_roles()
        resp = self.root.auth.token.create_or_update_role(
            name, allowed_policies=["app-a", "app-b"], orphan=True, renewable=False,
            path_suffix="v1")
        self.assertIn(resp.status_code, (200, 204))
        data = self.root.auth.token.read_role(name)["data"]
        self.assertEqual(data["name"], name)
        self.assertEqual(sorted(data["allowed_policies"]), ["app-a", "app-b"])
        self.assertEqual(data["disallowed_policies"], [])
        self.assertIs(data["orphan"], True)
        self.assertIs(data["renewable"], False)
        self.assertEqual(data["path_suffix"], "v1")
        self.assertEqual(data["token_type"], "default-service")
        # Every field Vault's role read returns.
        for key in ("allowed_policies_glob", "disallowed_policies_glob", "allowed_entity_aliases",
                    "period", "token_period", "explicit_max_ttl", "token_explicit_max_ttl",
                    "token_no_default_policy"):
            self.assertIn(key, data)

        self.assertIn(name, self.root.auth.token.list_roles()["data"]["keys"])
        r = self.raw("GET", "auth/token/roles", params={"list": "true"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn(name, r.json()["data"]["keys"])

        resp = self.root.auth.token.delete_role(name)
        self.assertEqual(resp.status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            self.root.auth.token.read_role(name)

    def test_role_disallowed_policies_and_token_fields(self):
        name = unique("role")
        app = self.put_policy(unique("app"), 'path "secret/data/app" { capabilities = ["read"] }')
        bad = self.put_policy(unique("bad"), 'path "secret/data/bad" { capabilities = ["read"] }')
        r = self.raw("POST", "auth/token/roles/" + name,
                     json={"disallowed_policies": [bad], "token_explicit_max_ttl": "1h"})
        self.assertIn(r.status_code, (200, 204), r.text)
        self.addCleanup(self.root.auth.token.delete_role, name)
        with self.assertRaises(hexc.InvalidRequest):
            self.create(role_name=name, policies=[app, bad])
        auth = self.create(role_name=name, policies=[app], ttl="5h")
        self.assertEqual(auth["policies"], sorted(["default", app]))
        self.assertLessEqual(auth["lease_duration"], 3600)
        renewed = self.root.auth.token.renew(auth["client_token"], increment="10h")["auth"]
        self.assertLessEqual(renewed["lease_duration"], 3600)
        data = self.root.auth.token.lookup(auth["client_token"])["data"]
        self.assertEqual(data["path"], "auth/token/create/" + name)
        self.assertEqual(data.get("role"), name)

    def test_create_against_role(self):
        name = unique("role")
        app = self.put_policy(unique("app"), 'path "secret/data/app" { capabilities = ["read"] }')
        other = self.put_policy(unique("other"), 'path "secret/data/o" { capabilities = ["read"] }')
        self.root.auth.token.create_or_update_role(name, allowed_policies=[app], orphan=True,
                                                   renewable=False, path_suffix="sfx")
        # A caller allowed only on the role's create path - the role, not the caller's own
        # policies, bounds what it may grant.
        role_user = self.put_policy(unique("role-user"), """
            path "auth/token/create/%s" { capabilities = ["create", "update"] }
        """ % name)
        caller = self.create(policies=[role_user])["client_token"]

        self.addCleanup(self.root.auth.token.delete_role, name)

        auth = self.create(parent=caller, role_name=name, policies=[app])
        self.assertEqual(auth["policies"], sorted(["default", app]))
        self.assertIs(auth["orphan"], True)
        self.assertIs(auth["renewable"], False)
        data = self.root.auth.token.lookup(auth["client_token"])["data"]
        self.assertEqual(data["path"], "auth/token/create/%s/sfx" % name)
        self.assertIs(data["orphan"], True)

        with self.assertRaises(hexc.InvalidRequest):
            self.create(parent=caller, role_name=name, policies=[other])
        # The caller may not use the plain create endpoint.
        with self.assertRaises(hexc.Forbidden):
            self.create(parent=caller, policies=["default"])
        # Legacy helper with role=.
        legacy = self.client(caller).create_token(role=name, policies=[app])
        self.assertIs(legacy["auth"]["orphan"], True)
        # Unknown role.
        with self.assertRaises(hexc.InvalidRequest):
            self.create(role_name=unique("missing"), policies=["default"])

    def role_caller(self, name):
        """A token whose only power is creating tokens against role `name`."""
        role_user = self.put_policy(unique("role-user"), """
            path "auth/token/create/%s" { capabilities = ["create", "update"] }
        """ % name)
        return self.create(policies=[role_user])["client_token"]

    def create_via_role(self, name, token, policies=None):
        body = {} if policies is None else {"policies": policies}
        return self.raw("POST", "auth/token/create/" + name, token=token, json=body)

    def test_role_policy_globs(self):
        # Vault 1.11+: allowed_policies_glob admits matching names on top of allowed_policies,
        # disallowed_policies_glob refuses matching names even when an allow rule admits them.
        name = unique("role")
        r = self.raw("POST", "auth/token/roles/" + name,
                     json={"allowed_policies_glob": ["app-*"],
                           "disallowed_policies_glob": ["*-admin"]})
        self.assertEqual(r.status_code, 204, r.text)
        self.addCleanup(self.root.auth.token.delete_role, name)

        r = self.raw("GET", "auth/token/roles/" + name)
        self.assertEqual(r.status_code, 200, r.text)
        data = r.json()["data"]
        self.assertEqual(data["allowed_policies_glob"], ["app-*"])
        self.assertEqual(data["disallowed_policies_glob"], ["*-admin"])
        self.assertEqual(data["allowed_policies"], [])
        self.assertEqual(data["disallowed_policies"], [])

        caller = self.role_caller(name)
        r = self.create_via_role(name, caller, ["app-web"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["auth"]["policies"], ["app-web", "default"])

        # Vault: 400 'token policies (%q) must be subset of the role's allowed policies (%q) or
        # glob policies (%q)', with `default` added to both lists.
        r = self.create_via_role(name, caller, ["db-x"])
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["errors"], [
            'token policies (["db-x" "default"]) must be subset of the role\'s allowed policies '
            '(["default"]) or glob policies (["app-*"])'])
        r = self.create_via_role(name, caller, ["app-web", "db-x"])
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["errors"], [
            'token policies (["app-web" "db-x" "default"]) must be subset of the role\'s allowed '
            'policies (["default"]) or glob policies (["app-*"])'])

        # app-* admits app-admin, *-admin refuses it (Vault: 400 'token policy %q is disallowed
        # by this role').
        for policies in (["app-admin"], ["app-web", "app-admin"]):
            with self.subTest(policies=policies):
                r = self.create_via_role(name, caller, policies)
                self.assertEqual(r.status_code, 400, r.text)
                self.assertEqual(r.json()["errors"],
                                 ['token policy "app-admin" is disallowed by this role'])

        # Globs are never expanded into defaults: without `policies` the token gets the role's
        # literal allowed_policies (none) plus `default`.
        r = self.create_via_role(name, caller)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["auth"]["policies"], ["default"])

        # Updating other fields keeps the patterns.
        r = self.raw("POST", "auth/token/roles/" + name, json={"allowed_policies": ["db-x"]})
        self.assertEqual(r.status_code, 204, r.text)
        data = self.raw("GET", "auth/token/roles/" + name).json()["data"]
        self.assertEqual(data["allowed_policies"], ["db-x"])
        self.assertEqual(data["allowed_policies_glob"], ["app-*"])
        self.assertEqual(data["disallowed_policies_glob"], ["*-admin"])
        # Either rule admits a name: the literal list, or a pattern.
        r = self.create_via_role(name, caller, ["db-x", "app-web"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["auth"]["policies"], ["app-web", "db-x", "default"])
        r = self.create_via_role(name, caller, ["db-y"])
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["errors"], [
            'token policies (["db-y" "default"]) must be subset of the role\'s allowed policies '
            '(["db-x" "default"]) or glob policies (["app-*"])'])
        # Without `policies` the token gets the literal list only.
        r = self.create_via_role(name, caller)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["auth"]["policies"], ["db-x", "default"])

    def test_role_policy_globs_weak_input_and_matching(self):
        # Comma-separated strings are accepted, trimmed, lower-cased, sorted and de-duplicated.
        name = unique("role")
        r = self.raw("POST", "auth/token/roles/" + name,
                     json={"allowed_policies_glob": "team-*-ro, App-*,app-*",
                           "disallowed_policies_glob": "*-admin,*secret*"})
        self.assertEqual(r.status_code, 204, r.text)
        self.addCleanup(self.root.auth.token.delete_role, name)
        data = self.raw("GET", "auth/token/roles/" + name).json()["data"]
        self.assertEqual(data["allowed_policies_glob"], ["app-*", "team-*-ro"])
        self.assertEqual(data["disallowed_policies_glob"], ["*-admin", "*secret*"])

        caller = self.role_caller(name)
        # `*` matches any run of characters (including none) anywhere in the name.
        for allowed in ("app-", "team-x-ro", "team--ro", "team-a-b-ro", "app-team-x-rw"):
            with self.subTest(allowed=allowed):
                r = self.create_via_role(name, caller, [allowed])
                self.assertEqual(r.status_code, 200, r.text)
                self.assertEqual(r.json()["auth"]["policies"], sorted([allowed, "default"]))
        for refused in ("team-x-rw", "xteam-x-ro", "team-ro", "ap"):
            with self.subTest(refused=refused):
                r = self.create_via_role(name, caller, [refused])
                self.assertEqual(r.status_code, 400, r.text)
                self.assertIn("must be subset of the role's allowed policies",
                              r.json()["errors"][0])
        for disallowed in ("app-mysecret-ro", "app-x-admin", "team-secret-ro"):
            with self.subTest(disallowed=disallowed):
                r = self.create_via_role(name, caller, [disallowed])
                self.assertEqual(r.status_code, 400, r.text)
                self.assertEqual(r.json()["errors"],
                                 ['token policy "%s" is disallowed by this role' % disallowed])

        # A malformed value is refused and leaves the role alone.
        r = self.raw("POST", "auth/token/roles/" + name, json={"allowed_policies_glob": 7})
        self.assertEqual(r.status_code, 400, r.text)
        data = self.raw("GET", "auth/token/roles/" + name).json()["data"]
        self.assertEqual(data["allowed_policies_glob"], ["app-*", "team-*-ro"])

        # A role without patterns reads them back as empty lists.
        plain = unique("role")
        r = self.raw("POST", "auth/token/roles/" + plain, json={"allowed_policies": "app-a"})
        self.assertEqual(r.status_code, 204, r.text)
        self.addCleanup(self.root.auth.token.delete_role, plain)
        data = self.raw("GET", "auth/token/roles/" + plain).json()["data"]
        self.assertEqual(data["allowed_policies_glob"], [])
        self.assertEqual(data["disallowed_policies_glob"], [])

    def test_role_disallowed_glob_covering_default(self):
        # Vault adds `default` only when the role does not disallow it, by name or by pattern.
        name = unique("role")
        r = self.raw("POST", "auth/token/roles/" + name,
                     json={"allowed_policies_glob": ["app-*"],
                           "disallowed_policies_glob": ["def*"]})
        self.assertEqual(r.status_code, 204, r.text)
        self.addCleanup(self.root.auth.token.delete_role, name)
        caller = self.role_caller(name)
        r = self.create_via_role(name, caller, ["app-web"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["auth"]["policies"], ["app-web"])
        # Asking for it outright is refused.
        r = self.create_via_role(name, caller, ["app-web", "default"])
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["errors"], ['token policy "default" is disallowed by this role'])
        # Without `default` in either list, the refusal shows neither side with it.
        r = self.create_via_role(name, caller, ["db-x"])
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["errors"], [
            'token policies (["db-x"]) must be subset of the role\'s allowed policies ([]) or '
            'glob policies (["app-*"])'])

    def test_role_without_allowed_policies_keeps_subset_rule(self):
        # With neither allowed_policies nor allowed_policies_glob, a caller without sudo may
        # only pass on policies it holds (Vault: 400 "child policies must be subset of parent").
        name = unique("role")
        r = self.raw("POST", "auth/token/roles/" + name, json={"orphan": True})
        self.assertEqual(r.status_code, 204, r.text)
        self.addCleanup(self.root.auth.token.delete_role, name)
        caller = self.role_caller(name)
        held = self.root.auth.token.lookup(caller)["data"]["policies"]
        r = self.create_via_role(name, caller, ["app-web"])
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["errors"], ["child policies must be subset of parent"])
        r = self.create_via_role(name, caller, held)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["auth"]["policies"], held)
        # Root may grant anything through it.
        r = self.create_via_role(name, self.root_token, ["app-web"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["auth"]["policies"], ["app-web", "default"])

@h.require_binary
class TokenBoundCidrsTest(DevServerCase):
    """SECURITY.md §6 D46: a token bound to networks works only from them."""

    def role_token(self, cidrs):
        name = unique("bound")
        r = self.raw("POST", "auth/token/roles/" + name, json={"token_bound_cidrs": cidrs})
        self.assertEqual(r.status_code, 204, r.text)
        r = self.raw("POST", "auth/token/create/" + name, json={})
        self.assertEqual(r.status_code, 200, r.text)
        return name, r.json()["auth"]["client_token"]

    def test_token_from_outside_its_networks_is_refused(self):
        name, token = self.role_token(["10.0.0.0/8", "2001:db8::/32"])
        r = self.raw("GET", "auth/token/roles/" + name)
        self.assertEqual(r.json()["data"]["token_bound_cidrs"], ["10.0.0.0/8", "2001:db8::/32"])
        # The tests reach the server from 127.0.0.1: outside both networks.
        r = self.raw("GET", "auth/token/lookup-self", token=token)
        self.assertEqual(r.status_code, 403, r.text)
        self.assertEqual(r.json(), {"errors": ["permission denied"]})
        # The token exists (root sees it, with its binding); it is only unusable from here.
        r = self.raw("POST", "auth/token/lookup", json={"token": token})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["bound_cidrs"], ["10.0.0.0/8", "2001:db8::/32"])

    def test_token_inside_its_network_works_and_children_inherit(self):
        _, token = self.role_token(["127.0.0.0/8"])
        data = self.assert_token_alive(token)
        self.assertEqual(data["bound_cidrs"], ["127.0.0.0/8"])
        # A host address binds the single host, written canonically.
        _, host_token = self.role_token(["127.0.0.1"])
        self.assertEqual(self.assert_token_alive(host_token)["bound_cidrs"], ["127.0.0.1/32"])
        # A child made by a bound token keeps the binding.
        creator = self.creator_policy()
        name = unique("bound-creator")
        r = self.raw("POST", "auth/token/roles/" + name,
                     json={"token_bound_cidrs": ["127.0.0.0/8"], "allowed_policies": [creator]})
        self.assertEqual(r.status_code, 204, r.text)
        r = self.raw("POST", "auth/token/create/" + name, json={"policies": [creator]})
        self.assertEqual(r.status_code, 200, r.text)
        parent = r.json()["auth"]["client_token"]
        r = self.raw("POST", "auth/token/create", token=parent, json={"policies": [creator]})
        self.assertEqual(r.status_code, 200, r.text)
        child = r.json()["auth"]["client_token"]
        self.assertEqual(self.assert_token_alive(child)["bound_cidrs"], ["127.0.0.0/8"])
        # An unbound token's children are unbound.
        unbound = self.create(policies=[creator])["client_token"]
        r = self.raw("POST", "auth/token/create", token=unbound, json={"policies": [creator]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.assert_token_alive(r.json()["auth"]["client_token"])["bound_cidrs"],
                         [])

    def test_invalid_cidr_is_refused_and_role_unchanged(self):
        name = unique("badcidr")
        r = self.raw("POST", "auth/token/roles/" + name, json={"token_bound_cidrs": ["10.0.0.0/8"]})
        self.assertEqual(r.status_code, 204, r.text)
        for bad in (["10.0.0.0/33"], ["not-an-ip"], "10.0.0.0/8,999.1.1.1"):
            with self.subTest(bad=bad):
                r = self.raw("POST", "auth/token/roles/" + name, json={"token_bound_cidrs": bad})
                self.assertEqual(r.status_code, 400, r.text)
                self.assertIn("invalid token_bound_cidrs entry", r.json()["errors"][0])
        r = self.raw("GET", "auth/token/roles/" + name)
        self.assertEqual(r.json()["data"]["token_bound_cidrs"], ["10.0.0.0/8"])
        # Vault's legacy name is accepted too.
        r = self.raw("POST", "auth/token/roles/" + name, json={"bound_cidrs": "192.168.0.0/16"})
        self.assertEqual(r.status_code, 204, r.text)
        r = self.raw("GET", "auth/token/roles/" + name)
        self.assertEqual(r.json()["data"]["token_bound_cidrs"], ["192.168.0.0/16"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
