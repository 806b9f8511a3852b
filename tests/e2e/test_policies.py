#!/usr/bin/python3
"""Policies and ACL enforcement end to end against a dev server, driven through hvac 0.11.2
(sys.create_or_update_policy / read_policy / list_policies / delete_policy, get_capabilities) and
raw HTTP for what hvac 0.11.2 cannot send (sys/policies/acl, LIST vs GET ?list=true, odd verbs,
X-Coffer-Intent).

Covers vault-api.md §2.6, §2.10, §6 and SECURITY.md §6 E47 (glob scope), E50 (deny and priority,
LIST deny), E55 (parameter rules), E56 (sudo paths), E57 (a policy change applies to the very
next request), E58 (method handling); sys/capabilities*, sys/policy-check, and each Coffer
condition kind (source_cidrs, time_window, require_intent, identity_kinds, require_mfa, max_ttl)
both granting and denying. Vault's behaviour is the reference; conditions follow Coffer's
contract (vault/policy/policy.h, acl.h).
"""

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvac.exceptions as hexc  # noqa: E402

import coffer_harness as h  # noqa: E402

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]  # datetime.weekday() order


unique = h.unique


class DevServerCase(h.DevServerCase):
    """Shared dev-server base from the harness."""

    def put_policy(self, name, text):
        resp = self.root.sys.create_or_update_policy(name=name, policy=text)
        self.assertEqual(resp.status_code, 204)
        return name

    def token_for(self, *policy_texts, **create_kwargs):
        """A fresh token holding one new policy per text (plus default)."""
        names = [self.put_policy(unique("pol"), text) for text in policy_texts]
        auth = self.root.auth.token.create(policies=names, **create_kwargs)["auth"]
        return auth["client_token"]

    def write_v2(self, path, data=None):
        self.root.secrets.kv.v2.create_or_update_secret(path=path, secret=data or {"v": path})

    def assert_allowed(self, response, *codes):
        self.assertIn(response.status_code, codes or (200, 204), response.text)

    def assert_denied(self, response, *fragments):
        """403 with Coffer's error shape: ["permission denied", "<reason>"]; every fragment
        must appear in the reason."""
        self.assertEqual(response.status_code, 403, response.text)
        errors = response.json().get("errors")
        self.assertIsInstance(errors, list, response.text)
        self.assertEqual(errors[0], "permission denied", response.text)
        reason = " ".join(errors[1:])
        for fragment in fragments:
            self.assertIn(fragment, reason, response.text)


# =============================================================================================


@h.require_binary
class PolicyEndpointsTest(DevServerCase):

    def test_hvac_create_read_list_delete(self):
        name = unique("app")
        text = 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n'
        self.put_policy(name, text)

        resp = self.root.sys.read_policy(name)
        self.assertEqual(resp["data"]["name"], name)
        self.assertEqual(resp["data"]["rules"], text)
        self.assertEqual(resp["rules"], text)  # sys/policy* data is copied to the top level
        self.assertEqual(self.root.get_policy(name), text)

        listed = self.root.sys.list_policies()
        self.assertIn(name, listed["data"]["policies"])
        self.assertIn("default", listed["data"]["policies"])
        self.assertIn("root", listed["data"]["policies"])
        self.assertEqual(listed["data"]["policies"], sorted(listed["data"]["policies"]))
        self.assertEqual(listed["data"]["keys"], listed["data"]["policies"])
        self.assertEqual(listed["policies"], listed["data"]["policies"])

        resp = self.root.sys.delete_policy(name)
        self.assertEqual(resp.status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            self.root.sys.read_policy(name)
        self.assertIsNone(self.root.get_policy(name))
        self.assertNotIn(name, self.root.sys.list_policies()["data"]["policies"])

    def test_hvac_dict_policy_is_sent_as_json_text(self):
        name = unique("json")
        policy = {"path": {"secret/data/json/*": {"capabilities": ["read"]}}}
        resp = self.root.sys.create_or_update_policy(name=name, policy=policy)
        self.assertEqual(resp.status_code, 204)
        self.assertEqual(json.loads(self.root.sys.read_policy(name)["data"]["rules"]), policy)
        self.write_v2("json/x")
        token = self.root.auth.token.create(policies=[name])["auth"]["client_token"]
        self.assert_allowed(self.raw("GET", "secret/data/json/x", token=token), 200)
        self.assert_denied(self.raw("GET", "secret/data/other", token=token))

    def test_legacy_set_policy_with_rules(self):
        name = unique("legacy")
        text = 'path "secret/data/legacy" { policy = "read" }'
        self.root.set_policy(name, text)
        self.assertEqual(self.root.sys.read_policy(name)["data"]["rules"], text)
        # Legacy `policy = "read"` means read + list.
        token = self.root.auth.token.create(policies=[name])["auth"]["client_token"]
        caps = self.server.hvac(token).sys.get_capabilities(paths=["secret/data/legacy"])
        self.assertEqual(caps["data"]["secret/data/legacy"], ["list", "read"])

    def test_sys_policies_acl_endpoints(self):
        name = unique("acl")
        text = 'path "secret/data/acl/*" { capabilities = ["read"] }'
        r = self.raw("PUT", "sys/policies/acl/" + name, json={"policy": text})
        self.assertEqual(r.status_code, 204, r.text)
        r = self.raw("GET", "sys/policies/acl/" + name)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"], {"name": name, "policy": text})
        for method, params in (("LIST", None), ("GET", {"list": "true"})):
            r = self.raw(method, "sys/policies/acl", params=params)
            self.assertEqual(r.status_code, 200, r.text)
            keys = r.json()["data"]["keys"]
            self.assertIn(name, keys)
            self.assertIn("default", keys)
        # The legacy endpoint sees the same policy.
        self.assertEqual(self.root.sys.read_policy(name)["data"]["rules"], text)
        r = self.raw("POST", "sys/policies/acl/" + name,
                     json={"policy": 'path "x" { capabilities = ["list"] }'})
        self.assertEqual(r.status_code, 204, r.text)
        self.assertIn('"x"', self.raw("GET", "sys/policies/acl/" + name).json()["data"]["policy"])
        r = self.raw("DELETE", "sys/policies/acl/" + name)
        self.assertEqual(r.status_code, 204, r.text)
        r = self.raw("GET", "sys/policies/acl/" + name)
        self.assertEqual(r.status_code, 404, r.text)

    def test_base64_policy_text_and_lowercased_names(self):
        import base64
        text = 'path "secret/data/b64" { capabilities = ["read"] }'
        r = self.raw("PUT", "sys/policy/" + unique("B64-Upper").upper(),
                     json={"policy": base64.b64encode(text.encode()).decode()})
        self.assertIn(r.status_code, (200, 204), r.text)
        names = self.root.sys.list_policies()["data"]["policies"]
        stored = [n for n in names if n.startswith("b64-upper-")]
        self.assertEqual(len(stored), 1, names)
        self.assertEqual(self.root.sys.read_policy(stored[0])["data"]["rules"], text)

    def test_builtin_policies_are_protected(self):
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.root.sys.delete_policy("default")
        self.assertIn("cannot delete default policy", ctx.exception.errors)
        default_rules = self.root.sys.read_policy("default")["data"]["rules"]
        self.assertIn("auth/token/lookup-self", default_rules)
        with self.assertRaises(hexc.InvalidRequest):
            self.root.sys.delete_policy("root")
        with self.assertRaises(hexc.InvalidRequest):
            self.root.sys.create_or_update_policy("root", 'path "x" { capabilities = ["read"] }')
        self.assertIn("root", self.root.sys.list_policies()["data"]["policies"])
        # default is editable.
        original = self.root.sys.read_policy("default")["data"]["rules"]
        self.addCleanup(self.root.sys.create_or_update_policy, "default", original)
        edited = original + '\npath "secret/data/by-default" { capabilities = ["read"] }\n'
        self.root.sys.create_or_update_policy("default", edited)
        self.assertEqual(self.root.sys.read_policy("default")["data"]["rules"], edited)

    def test_default_policy_grants_self_service_only(self):
        token = self.root.auth.token.create(policies=["default"])["auth"]["client_token"]
        self.assert_allowed(self.raw("GET", "auth/token/lookup-self", token=token), 200)
        self.assert_allowed(self.raw("POST", "sys/capabilities-self", token=token,
                                     json={"paths": ["secret/data/x"]}), 200)
        self.assert_denied(self.raw("GET", "secret/data/x", token=token))
        self.assert_denied(self.raw("GET", "sys/policy", token=token))
        self.assert_denied(self.raw("POST", "auth/token/create", token=token, json={}))

    def test_parse_errors_are_400(self):
        bad = [
            'path "x" { capabilities = ["read" }',                       # syntax
            'path "x" { capabilities = ["fly"] }',                       # unknown capability
            'path "x" { capabilities = ["read"] unknown_key = 1 }',      # unknown key
            'path "x" { capabilities = ["read"] control_group = {} }',   # enterprise, refused
            'nonsense "x" {}',                                           # unknown top-level key
        ]
        for text in bad:
            with self.subTest(policy=text):
                name = unique("bad")
                with self.assertRaises(hexc.InvalidRequest):
                    self.root.sys.create_or_update_policy(name, text)
                with self.assertRaises(hexc.InvalidPath):
                    self.root.sys.read_policy(name)


# =============================================================================================


@h.require_binary
class AclEnforcementTest(DevServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.mount_kv_v1(cls.server, cls.root_token, "kv1")

    def test_e47_glob_scope(self):
        for p in ("e47/app/x", "e47/app2/x", "e47/app"):
            self.write_v2(p)
        token = self.token_for('path "secret/data/e47/app/*" { capabilities = ["read"] }')
        self.assert_allowed(self.raw("GET", "secret/data/e47/app/x", token=token), 200)
        self.assert_denied(self.raw("GET", "secret/data/e47/app2/x", token=token),
                           "no policy grants access")
        self.assert_denied(self.raw("GET", "secret/data/e47/app", token=token))
        self.assert_denied(self.raw("GET", "secret/metadata/e47/app/x", token=token))
        self.assert_denied(self.raw("POST", "secret/data/e47/app/x", token=token,
                                    json={"data": {"a": 1}}), "secret/data/e47/app/*")
        self.assert_denied(self.raw("DELETE", "secret/data/e47/app/x", token=token))

    def test_plus_and_prefix_globs(self):
        for p in ("glob/a/teamb", "glob/a/b/teamb", "glob/zip-zap/x", "glob/zipx"):
            self.write_v2(p)
        token = self.token_for('path "secret/data/glob/+/teamb" { capabilities = ["read"] }',
                               'path "secret/data/glob/zip-*" { capabilities = ["read"] }')
        self.assert_allowed(self.raw("GET", "secret/data/glob/a/teamb", token=token), 200)
        self.assert_denied(self.raw("GET", "secret/data/glob/a/b/teamb", token=token))
        self.assert_allowed(self.raw("GET", "secret/data/glob/zip-zap/x", token=token), 200)
        self.assert_denied(self.raw("GET", "secret/data/glob/zipx", token=token))

    def test_e50_deny_beats_broader_grant(self):
        self.write_v2("e50/app/x")
        self.write_v2("e50/other/x")
        token = self.token_for('path "secret/data/*" { capabilities = ["read"] }',
                               'path "secret/data/e50/app/*" { capabilities = ["deny"] }')
        self.assert_allowed(self.raw("GET", "secret/data/e50/other/x", token=token), 200)
        self.assert_denied(self.raw("GET", "secret/data/e50/app/x", token=token),
                           "secret/data/e50/app/*")
        # deny on the same pattern as a grant (in another policy) wins too, even over sudo.
        token = self.token_for(
            'path "secret/data/e50/app/*" { capabilities = ["read", "sudo"] }',
            'path "secret/data/e50/app/*" { capabilities = ["deny"] }')
        self.assert_denied(self.raw("GET", "secret/data/e50/app/x", token=token))

    def test_e50_list_deny_with_and_without_trailing_slash(self):
        self.write_v2("e50l/app/x")
        self.write_v2("e50l/pub/x")
        exact = self.token_for('path "secret/metadata/*" { capabilities = ["list"] }',
                               'path "secret/metadata/e50l/app" { capabilities = ["deny"] }')
        prefix = self.token_for('path "secret/metadata/*" { capabilities = ["list"] }',
                                'path "secret/metadata/e50l/app/*" { capabilities = ["deny"] }')
        for token in (exact, prefix):
            for method, path, params in (("LIST", "secret/metadata/e50l/app", None),
                                         ("LIST", "secret/metadata/e50l/app/", None),
                                         ("GET", "secret/metadata/e50l/app", {"list": "true"}),
                                         ("GET", "secret/metadata/e50l/app/", {"list": "true"})):
                with self.subTest(token=token[:8], method=method, path=path):
                    self.assert_denied(self.raw(method, path, token=token, params=params))
            r = self.raw("LIST", "secret/metadata/e50l/pub", token=token)
            self.assert_allowed(r, 200)
            self.assertEqual(r.json()["data"]["keys"], ["x"])
            with self.assertRaises(hexc.Forbidden):
                self.server.hvac(token).secrets.kv.v2.list_secrets("e50l/app")

    def test_priority_rules_pick_one_stanza(self):
        self.write_v2("prio/a/foo/x")
        self.write_v2("prio/exact")
        # Rule 3: `secret/data/*` beats `secret/data/+/foo/*` (more `+` segments lose); only the
        # winning stanza applies, so the lower-priority deny does not.
        token = self.token_for('path "secret/data/*" { capabilities = ["read"] }',
                               'path "secret/data/+/foo/*" { capabilities = ["deny"] }')
        self.assert_allowed(self.raw("GET", "secret/data/prio/a/foo/x", token=token), 200)
        # An exact stanza wins over any glob.
        token = self.token_for('path "secret/data/prio/exact" { capabilities = ["read"] }',
                               'path "secret/data/prio/*" { capabilities = ["deny"] }')
        self.assert_allowed(self.raw("GET", "secret/data/prio/exact", token=token), 200)
        # A later first wildcard wins: `secret/data/prio/*` (no read) over `secret/data/*`.
        token = self.token_for('path "secret/data/*" { capabilities = ["read"] }',
                               'path "secret/data/prio/*" { capabilities = ["list"] }')
        self.assert_denied(self.raw("GET", "secret/data/prio/exact", token=token),
                           "secret/data/prio/*")
        # Rule 2: with the first wildcard at the same place, a pattern not ending in `*` wins.
        self.write_v2("prio2/k")
        token = self.token_for('path "secret/data/prio2/+" { capabilities = ["read"] }',
                               'path "secret/data/prio2/*" { capabilities = ["deny"] }')
        self.assert_allowed(self.raw("GET", "secret/data/prio2/k", token=token), 200)
        # Rule 4: otherwise equal, the longer pattern wins.
        self.write_v2("prio4/long/x")
        token = self.token_for('path "secret/data/+/long/*" { capabilities = ["read"] }',
                               'path "secret/data/+/l*" { capabilities = ["deny"] }')
        self.assert_allowed(self.raw("GET", "secret/data/prio4/long/x", token=token), 200)
        token = self.token_for('path "secret/data/+/long/*" { capabilities = ["deny"] }',
                               'path "secret/data/+/l*" { capabilities = ["read"] }')
        self.assert_denied(self.raw("GET", "secret/data/prio4/long/x", token=token),
                           "secret/data/+/long/*")
        # The same pattern in two policies: capabilities are unioned.
        token = self.token_for('path "secret/data/prio4/*" { capabilities = ["read"] }',
                               'path "secret/data/prio4/*" { capabilities = ["update"] }')
        self.assert_allowed(self.raw("GET", "secret/data/prio4/long/x", token=token), 200)
        self.assert_allowed(self.raw("POST", "secret/data/prio4/long/x", token=token,
                                     json={"data": {"v": 2}}), 200)

    def test_create_versus_update(self):
        self.write_v2("cu/existing")
        only_update = self.token_for('path "secret/data/cu/*" { capabilities = ["update"] }')
        only_create = self.token_for('path "secret/data/cu/*" { capabilities = ["create"] }')
        body = {"data": {"k": "v"}}
        self.assert_denied(self.raw("POST", "secret/data/cu/new1", token=only_update, json=body))
        self.assert_allowed(self.raw("POST", "secret/data/cu/existing", token=only_update,
                                     json=body), 200)
        self.assert_allowed(self.raw("POST", "secret/data/cu/new2", token=only_create, json=body),
                            200)
        self.assert_denied(self.raw("POST", "secret/data/cu/existing", token=only_create,
                                    json=body))

    def test_e55_parameter_rules(self):
        token = self.token_for("""
            path "kv1/allow/*" {
              capabilities = ["create", "update"]
              allowed_parameters = { "foo" = [], "bar" = ["zip", "zap"], "env" = ["dev-*"] }
            }
            path "kv1/deny/*" {
              capabilities = ["create", "update"]
              denied_parameters = { "baz" = [], "mode" = ["admin"] }
            }
            path "kv1/req/*" {
              capabilities = ["create", "update"]
              required_parameters = ["must"]
            }
            path "kv1/star/*" {
              capabilities = ["create", "update"]
              allowed_parameters = { "*" = [] }
              denied_parameters = { "secret" = [] }
            }
        """)
        cases = [
            ("kv1/allow/a", {"foo": "anything"}, True),
            ("kv1/allow/a", {"foo": "x", "bar": "zap"}, True),
            ("kv1/allow/a", {"env": "dev-42"}, True),
            ("kv1/allow/a", {"bar": "nope"}, False),
            ("kv1/allow/a", {"env": "prod"}, False),
            ("kv1/allow/a", {"foo": "x", "other": "y"}, False),
            ("kv1/deny/a", {"x": "1", "mode": "user"}, True),
            ("kv1/deny/a", {"baz": "1"}, False),
            ("kv1/deny/a", {"x": "1", "mode": "admin"}, False),
            ("kv1/req/a", {"must": "1", "x": "2"}, True),
            ("kv1/req/a", {"x": "2"}, False),
            ("kv1/star/a", {"anything": "1"}, True),
            ("kv1/star/a", {"anything": "1", "secret": "2"}, False),
        ]
        for path, body, ok in cases:
            with self.subTest(path=path, body=body):
                r = self.raw("POST", path, token=token, json=body)
                if ok:
                    self.assert_allowed(r, 204, 200)
                else:
                    self.assert_denied(r)

    def test_parameter_lists_are_checked_element_by_element(self):
        # Coffer hardening over Vault (acl.h): a list value, or a comma-separated string, must
        # have every element allowed and no element denied.
        token = self.token_for("""
            path "kv1/elem/*" {
              capabilities = ["create", "update"]
              allowed_parameters = { "role" = ["user", "dev"], "*" = [] }
            }
            path "kv1/elemdeny/*" {
              capabilities = ["create", "update"]
              denied_parameters = { "role" = ["admin"] }
            }
        """)
        cases = [
            ("kv1/elem/a", {"role": "user"}, True),
            ("kv1/elem/a", {"role": "user,dev"}, True),
            ("kv1/elem/a", {"role": ["user", "dev"]}, True),
            ("kv1/elem/a", {"role": "user,admin"}, False),
            ("kv1/elem/a", {"role": ["user", "admin"]}, False),
            ("kv1/elemdeny/a", {"role": "user"}, True),
            ("kv1/elemdeny/a", {"role": "user,admin"}, False),
            ("kv1/elemdeny/a", {"role": ["admin"]}, False),
        ]
        for path, body, ok in cases:
            with self.subTest(path=path, body=body):
                r = self.raw("POST", path, token=token, json=body)
                if ok:
                    self.assert_allowed(r, 204, 200)
                else:
                    self.assert_denied(r)

    def test_missing_and_templated_access(self):
        self.write_v2("anon/x")
        r = self.server.request("GET", "secret/data/anon/x")  # no token at all
        self.assertEqual(r.status_code, 403, r.text)
        self.assertIn("permission denied", r.json()["errors"])
        # A templated stanza that cannot be rendered (plain tokens have no entity) grants
        # nothing - and is not an error.
        token = self.token_for(
            'path "secret/data/anon/{{identity.entity.id}}/*" { capabilities = ["read"] }',
            'path "secret/data/anon/x" { capabilities = ["list"] }')
        self.assert_denied(self.raw("GET", "secret/data/anon/x", token=token))
        r = self.raw("GET", "secret/data/anon//x", token=token)  # what an empty id renders to
        self.assertIn(r.status_code, (400, 403), r.text)

    def test_e56_sudo_paths_need_sudo(self):
        no_sudo = self.token_for("""
            path "auth/token/accessors" { capabilities = ["list", "read"] }
            path "auth/token/accessors/" { capabilities = ["list", "read"] }
            path "sys/rotate" { capabilities = ["create", "update"] }
            path "auth/token/revoke-orphan" { capabilities = ["create", "update"] }
            path "sys/leases/lookup/*" { capabilities = ["list"] }
            path "sys/audit" { capabilities = ["read"] }
            path "sys/mounts/*" { capabilities = ["create", "update", "read", "delete"] }
        """)
        self.assert_denied(self.raw("LIST", "auth/token/accessors", token=no_sudo))
        self.assert_denied(self.raw("GET", "auth/token/accessors", token=no_sudo,
                                    params={"list": "true"}))
        self.assert_denied(self.raw("PUT", "sys/rotate", token=no_sudo))
        victim = self.root.auth.token.create(policies=["default"])["auth"]["client_token"]
        # Vault refuses in the handler with 400; a 403 is as good. It must not succeed.
        r = self.raw("POST", "auth/token/revoke-orphan", token=no_sudo, json={"token": victim})
        self.assertIn(r.status_code, (400, 403), r.text)
        self.assertEqual(self.raw("POST", "auth/token/lookup", json={"token": victim})
                         .status_code, 200)
        self.assert_denied(self.raw("LIST", "sys/leases/lookup/", token=no_sudo))
        self.assert_denied(self.raw("GET", "sys/audit", token=no_sudo))
        # Positive control: a non-sudo path granted by the same policy works.
        mount = unique("e56")
        self.assert_allowed(self.raw("POST", "sys/mounts/" + mount, token=no_sudo,
                                     json={"type": "kv"}), 204)
        self.assert_allowed(self.raw("DELETE", "sys/mounts/" + mount, token=no_sudo), 204)

        with_sudo = self.token_for("""
            path "auth/token/accessors" { capabilities = ["list", "sudo"] }
            path "auth/token/accessors/" { capabilities = ["list", "sudo"] }
            path "sys/rotate" { capabilities = ["update", "sudo"] }
        """)
        before = self.root.sys.get_encryption_key_status()["data"]["term"]
        self.assert_allowed(self.raw("LIST", "auth/token/accessors", token=with_sudo), 200)
        self.assert_allowed(self.raw("PUT", "sys/rotate", token=with_sudo), 204)
        self.assertEqual(self.root.sys.get_encryption_key_status()["data"]["term"], before + 1)

    def test_e56_sys_glob_read_list_does_not_reach_sudo_paths(self):
        # A broad `sys/*` grant without sudo still stops at every root-protected path
        # (Core::sudo_required: sys/audit, the sys/raw prefix, LIST on sys/leases/lookup/).
        # Without `default`, whose exact `sys/leases/lookup` stanza (update only) would win
        # over the glob for LIST sys/leases/lookup/ and deny it for lacking "list" instead.
        token = self.token_for('path "sys/*" { capabilities = ["read", "list"] }',
                               no_default_policy=True)
        sudo_reason = 'denied by path "sys/*": path is root-protected and "sudo" is not granted'
        for method, path in (("GET", "sys/audit"), ("GET", "sys/raw/core/keyring"),
                             ("GET", "sys/raw/sys/token/id"), ("LIST", "sys/raw/"),
                             ("LIST", "sys/leases/lookup/")):
            with self.subTest(method=method, path=path):
                r = self.raw(method, path, token=token)
                self.assert_denied(r)
                self.assertEqual(r.json()["errors"], ["permission denied", sudo_reason])
        # GET ?list=true is the same LIST.
        r = self.raw("GET", "sys/leases/lookup/", token=token, params={"list": "true"})
        self.assertEqual(r.json()["errors"], ["permission denied", sudo_reason], r.text)
        # Positive control: the same stanza reads non-sudo sys paths.
        r = self.raw("GET", "sys/mounts", token=token)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["secret/"]["type"], "kv")
        r = self.raw("LIST", "sys/policies/acl", token=token)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("default", r.json()["data"]["keys"])
        # With `default` as well, LIST sys/leases/lookup/ is still refused, by that stanza.
        with_default = self.token_for('path "sys/*" { capabilities = ["read", "list"] }')
        r = self.raw("LIST", "sys/leases/lookup/", token=with_default)
        self.assert_denied(r)
        self.assertEqual(r.json()["errors"], [
            "permission denied",
            'denied by path "sys/leases/lookup": capability "list" not granted'])
        r = self.raw("GET", "sys/audit", token=with_default)
        self.assertEqual(r.json()["errors"], ["permission denied", sudo_reason], r.text)

    def test_e57_policy_change_applies_to_the_next_request(self):
        self.write_v2("e57/x")
        name = self.put_policy(unique("e57"),
                               'path "secret/data/e57/*" { capabilities = ["read"] }')
        token = self.root.auth.token.create(policies=[name])["auth"]["client_token"]
        self.assert_allowed(self.raw("GET", "secret/data/e57/x", token=token), 200)
        self.put_policy(name, 'path "secret/data/e57/*" { capabilities = ["list"] }')
        self.assert_denied(self.raw("GET", "secret/data/e57/x", token=token))
        self.put_policy(name, 'path "secret/data/e57/*" { capabilities = ["read"] }')
        self.assert_allowed(self.raw("GET", "secret/data/e57/x", token=token), 200)
        r = self.raw("PUT", "sys/policies/acl/" + name,
                     json={"policy": 'path "secret/data/e57/*" { capabilities = ["deny"] }'})
        self.assertEqual(r.status_code, 204, r.text)
        self.assert_denied(self.raw("GET", "secret/data/e57/x", token=token))
        self.put_policy(name, 'path "secret/data/e57/*" { capabilities = ["read"] }')
        self.assert_allowed(self.raw("GET", "secret/data/e57/x", token=token), 200)
        self.root.sys.delete_policy(name)
        self.assert_denied(self.raw("GET", "secret/data/e57/x", token=token))

    def test_e58_odd_methods_are_405(self):
        self.write_v2("e58/x")
        for method in ("TRACE", "PROPFIND", "CONNECTX", "MKCOL"):
            with self.subTest(method=method):
                r = self.raw(method, "secret/data/e58/x")
                self.assertEqual(r.status_code, 405, r.text)

    def test_e58_list_verb_and_get_list_true_are_both_list(self):
        self.write_v2("e58l/a")
        read_only = self.token_for('path "secret/metadata/e58l/*" { capabilities = ["read"] }',
                                   'path "secret/metadata/e58l" { capabilities = ["read"] }')
        list_only = self.token_for('path "secret/metadata/e58l/*" { capabilities = ["list"] }',
                                   'path "secret/metadata/e58l" { capabilities = ["list"] }')
        as_list = [("LIST", None), ("GET", {"list": "true"}), ("GET", {"list": "1"}),
                   ("GET", {"list": "True"})]
        for method, params in as_list:
            with self.subTest(method=method, params=params):
                self.assert_denied(self.raw(method, "secret/metadata/e58l", token=read_only,
                                            params=params), "list")
                r = self.raw(method, "secret/metadata/e58l", token=list_only, params=params)
                self.assert_allowed(r, 200)
                self.assertEqual(r.json()["data"]["keys"], ["a"])
        # Plain GET is a read.
        self.assert_allowed(self.raw("GET", "secret/metadata/e58l/a", token=read_only), 200)
        self.assert_denied(self.raw("GET", "secret/metadata/e58l/a", token=list_only), "read")
        # list=false is a read, an unparseable list flag is a 400.
        self.assert_allowed(self.raw("GET", "secret/metadata/e58l/a", token=read_only,
                                     params={"list": "false"}), 200)
        r = self.raw("GET", "secret/metadata/e58l", params={"list": "maybe"})
        self.assertEqual(r.status_code, 400, r.text)
        # hvac's legacy client.list() sends GET ?list=True.
        self.assertEqual(self.server.hvac(list_only).list("secret/metadata/e58l")["data"]["keys"],
                         ["a"])

    def test_dot_segments_are_rejected(self):
        self.write_v2("dots/app/x")
        self.write_v2("dots/private")
        token = self.token_for('path "secret/data/dots/app/*" { capabilities = ["read"] }')
        raw_paths = ["secret/data/dots/app/../private", "secret/data/dots/app/./x",
                     "secret/data/dots/app/..", "secret/data/dots/app/%2e%2e/private",
                     "secret/data/dots/app/%2E/x"]
        for path in raw_paths:
            for tok in (token, self.root_token):
                with self.subTest(path=path, root=tok == self.root_token):
                    request = ("GET /v1/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vault-Token: %s\r\n"
                               "Connection: close\r\n\r\n" % (path, tok)).encode()
                    answer = h.raw_exchange(self.server, [request])
                    self.assertEqual(h.parse_status(answer), 400, answer[:300])
                    self.assertNotIn(b"dots/private", answer)


# =============================================================================================


@h.require_binary
class CapabilitiesAndPolicyCheckTest(DevServerCase):

    POLICY = """
        path "secret/data/cap/*" { capabilities = ["read", "list", "update"] }
        path "secret/data/cap/deny" { capabilities = ["deny"] }
    """

    def setUp(self):
        self.name = self.put_policy(unique("cap"), self.POLICY)
        auth = self.root.auth.token.create(policies=[self.name])["auth"]
        self.token, self.accessor = auth["client_token"], auth["accessor"]

    def test_capabilities_self_other_and_accessor(self):
        paths = ["secret/data/cap/x", "secret/data/cap/deny", "secret/data/elsewhere"]
        expected = {"secret/data/cap/x": ["list", "read", "update"],
                    "secret/data/cap/deny": ["deny"],
                    "secret/data/elsewhere": ["deny"]}
        self_caps = self.server.hvac(self.token).sys.get_capabilities(paths=paths)
        by_token = self.root.sys.get_capabilities(paths=paths, token=self.token)
        by_accessor = self.root.sys.get_capabilities(paths=paths, accessor=self.accessor)
        for resp in (self_caps, by_token, by_accessor):
            for path, caps in expected.items():
                self.assertEqual(resp["data"][path], caps, resp)
                self.assertEqual(resp[path], caps)  # copied to the top level

        one = self.root.sys.get_capabilities(paths=["secret/data/cap/x"], token=self.token)
        self.assertEqual(one["data"]["capabilities"], ["list", "read", "update"])
        root = self.root.sys.get_capabilities(paths=["secret/data/anything"])
        self.assertEqual(root["data"]["secret/data/anything"], ["root"])
        self.assertEqual(root["data"]["capabilities"], ["root"])
        # Legacy `path` parameter.
        r = self.raw("POST", "sys/capabilities-self", token=self.token,
                     json={"path": "secret/data/cap/x"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["capabilities"], ["list", "read", "update"])
        # A token may ask about itself but not about others without a grant.
        with self.assertRaises(hexc.Forbidden):
            self.server.hvac(self.token).sys.get_capabilities(paths=paths, token=self.root_token)

    def test_policy_check_explains_denials_and_grants(self):
        def check(path, operation, accessor=None, token=None):
            body = {"path": path, "operation": operation}
            if accessor is not None:
                body["accessor"] = accessor
            r = self.raw("POST", "sys/policy-check", token=token, json=body)
            self.assertEqual(r.status_code, 200, r.text)
            return r.json()["data"]

        granted = check("secret/data/cap/x", "read", accessor=self.accessor)
        self.assertIs(granted["allowed"], True)
        self.assertEqual(granted["matched_pattern"], "secret/data/cap/*")
        self.assertEqual(granted["policy"], self.name)
        self.assertEqual(granted["capabilities"], ["list", "read", "update"])

        denied = check("secret/data/cap/deny", "read", accessor=self.accessor)
        self.assertIs(denied["allowed"], False)
        self.assertEqual(denied["matched_pattern"], "secret/data/cap/deny")
        self.assertEqual(denied["policy"], self.name)
        self.assertEqual(denied["capabilities"], ["deny"])
        self.assertIn("secret/data/cap/deny", denied["reason"])

        missing_cap = check("secret/data/cap/x", "delete", accessor=self.accessor)
        self.assertIs(missing_cap["allowed"], False)
        self.assertEqual(missing_cap["matched_pattern"], "secret/data/cap/*")
        self.assertIn("delete", missing_cap["reason"])

        nothing = check("secret/data/elsewhere", "read", accessor=self.accessor)
        self.assertIs(nothing["allowed"], False)
        self.assertEqual(nothing["matched_pattern"], "")
        self.assertTrue(nothing["reason"])

        listing = check("secret/data/cap/", "list", accessor=self.accessor)
        self.assertIs(listing["allowed"], True)

        # Without an accessor it checks the caller itself; the verdict matches reality.
        own = check("secret/data/cap/deny", "read", token=self.token)
        self.assertIs(own["allowed"], False)
        r = self.raw("GET", "secret/data/cap/deny", token=self.token)
        self.assert_denied(r, "secret/data/cap/deny")


# =============================================================================================


@h.require_binary
class ConditionsTest(DevServerCase):

    def cond_token(self, pattern, conditions, capabilities=("read",)):
        text = 'path "%s" {\n  capabilities = %s\n  conditions {\n%s\n  }\n}\n' % (
            pattern, json.dumps(list(capabilities)), conditions)
        return self.token_for(text)

    def read(self, path, token, **kwargs):
        return self.raw("GET", "secret/data/" + path, token=token, **kwargs)

    def test_source_cidrs(self):
        self.write_v2("cidr/x")
        ok = self.cond_token("secret/data/cidr/*", 'source_cidrs = ["127.0.0.0/8", "::1/128"]')
        self.assert_allowed(self.read("cidr/x", ok), 200)
        host = self.cond_token("secret/data/cidr/*", 'source_cidrs = ["127.0.0.1"]')
        self.assert_allowed(self.read("cidr/x", host), 200)
        no = self.cond_token("secret/data/cidr/*", 'source_cidrs = ["10.0.0.0/8"]')
        self.assert_denied(self.read("cidr/x", no), "secret/data/cidr/*", "source_cidrs")

    def test_time_window(self):
        self.write_v2("tw/x")
        now = datetime.datetime.now(datetime.timezone.utc)
        today_or_tomorrow = "%s,%s 00:00-24:00 UTC" % (DAYS[now.weekday()],
                                                       DAYS[(now.weekday() + 1) % 7])
        allowed = ["Mon-Sun 00:00-24:00 UTC", "00:00-24:00 UTC", today_or_tomorrow]
        for window in allowed:
            with self.subTest(window=window):
                token = self.cond_token("secret/data/tw/*", 'time_window = "%s"' % window)
                self.assert_allowed(self.read("tw/x", token), 200)
        # A whole day two days from now never contains now, even across midnight.
        other_day = DAYS[(now.weekday() + 2) % 7]
        minute = now.hour * 60 + now.minute
        start, end = (minute + 120) % 1440, (minute + 180) % 1440
        later_today = "%02d:%02d-%02d:%02d UTC" % (start // 60, start % 60, end // 60, end % 60)
        for window in ("%s 00:00-24:00 UTC" % other_day, later_today):
            with self.subTest(window=window):
                token = self.cond_token("secret/data/tw/*", 'time_window = "%s"' % window)
                self.assert_denied(self.read("tw/x", token), "secret/data/tw/*", "time_window")
        # A list: any window may match.
        token = self.cond_token("secret/data/tw/*", 'time_window = ["%s 00:00-24:00 UTC", '
                                '"Mon-Sun 00:00-24:00 UTC"]' % other_day)
        self.assert_allowed(self.read("tw/x", token), 200)

    def test_require_intent(self):
        self.write_v2("intent/x")
        token = self.cond_token("secret/data/intent/*", "require_intent = true")
        self.assert_denied(self.read("intent/x", token), "secret/data/intent/*", "require_intent")
        self.assert_denied(self.read("intent/x", token, headers={"X-Coffer-Intent": ""}),
                           "require_intent")
        self.assert_allowed(self.read("intent/x", token,
                                      headers={"X-Coffer-Intent": "INC-1234 rotate creds"}), 200)
        # hvac can send it too (custom session headers).
        client = self.server.hvac(token)
        client.adapter.session.headers["X-Coffer-Intent"] = "ticket-42"
        self.assertEqual(client.secrets.kv.v2.read_secret_version("intent/x")["data"]["data"],
                         {"v": "intent/x"})

    def test_identity_kinds_cannot_be_met_by_plain_tokens(self):
        self.write_v2("kind/x")
        token = self.cond_token("secret/data/kind/*", 'identity_kinds = ["human", "agent"]')
        self.assert_denied(self.read("kind/x", token), "secret/data/kind/*", "identity_kinds")

    def test_require_mfa_cannot_be_met_without_mfa(self):
        self.write_v2("mfa/x")
        token = self.cond_token("secret/data/mfa/*", "require_mfa = true")
        self.assert_denied(self.read("mfa/x", token), "secret/data/mfa/*", "require_mfa")
        self.assert_denied(self.read("mfa/x", token, headers={"X-Vault-MFA": "totp:123456"}),
                           "require_mfa")

    def test_max_ttl_bounds_requested_token_ttl(self):
        token = self.cond_token("auth/token/create", 'max_ttl = "1h"',
                                capabilities=("create", "update"))
        r = self.raw("POST", "auth/token/create", token=token,
                     json={"policies": ["default"], "ttl": "2h"})
        self.assert_denied(r, "auth/token/create", "max_ttl")
        r = self.raw("POST", "auth/token/create", token=token,
                     json={"policies": ["default"], "ttl": "30m"})
        self.assert_allowed(r, 200)
        self.assertEqual(r.json()["auth"]["lease_duration"], 1800)
        # Without a requested TTL the issued one is clamped to the condition.
        r = self.raw("POST", "auth/token/create", token=token, json={"policies": ["default"]})
        self.assert_allowed(r, 200)
        self.assertLessEqual(r.json()["auth"]["lease_duration"], 3600)

    def test_failing_condition_only_removes_its_own_grant(self):
        self.write_v2("mix/x")
        token = self.token_for(
            'path "secret/data/mix/*" { capabilities = ["read"] }',
            'path "secret/data/mix/*" {\n capabilities = ["create", "update"]\n'
            ' conditions { require_intent = true }\n}')
        body = {"data": {"k": "v"}}
        self.assert_allowed(self.read("mix/x", token), 200)
        self.assert_denied(self.raw("POST", "secret/data/mix/x", token=token, json=body),
                           "require_intent")
        self.assert_allowed(self.raw("POST", "secret/data/mix/x", token=token, json=body,
                                     headers={"X-Coffer-Intent": "deploy"}), 200)

    def test_several_conditions_all_must_hold(self):
        self.write_v2("multi/x")
        token = self.cond_token("secret/data/multi/*",
                                'source_cidrs = ["127.0.0.0/8"]\n'
                                'time_window = "Mon-Sun 00:00-24:00 UTC"\n'
                                "require_intent = true")
        self.assert_denied(self.read("multi/x", token), "require_intent")
        self.assert_allowed(self.read("multi/x", token, headers={"X-Coffer-Intent": "x"}), 200)

    def test_policy_check_names_the_failing_condition(self):
        name = self.put_policy(unique("pc"), 'path "secret/data/pc/*" {\n capabilities = ["read"]\n'
                                             ' conditions { source_cidrs = ["10.0.0.0/8"] }\n}')
        accessor = self.root.auth.token.create(policies=[name])["auth"]["accessor"]
        r = self.raw("POST", "sys/policy-check",
                     json={"path": "secret/data/pc/x", "operation": "read", "accessor": accessor})
        self.assertEqual(r.status_code, 200, r.text)
        data = r.json()["data"]
        self.assertIs(data["allowed"], False)
        self.assertEqual(data["matched_pattern"], "secret/data/pc/*")
        self.assertIn("source_cidrs", data["reason"])

    def test_invalid_conditions_are_parse_errors(self):
        bad = [
            'path "x" { capabilities = ["deny"] conditions { require_intent = true } }',
            'path "x" { capabilities = ["read"] conditions { colour = "blue" } }',
            'path "x" { capabilities = ["read"] '
            'conditions { time_window = "Mon 09:00-17:00 CET" } }',  # only UTC
            'path "x" { capabilities = ["read"] '
            'conditions { time_window = "Mon 10:00-10:00 UTC" } }',  # empty window
            'path "x" { capabilities = ["read"] conditions { source_cidrs = ["10.0.0.0/33"] } }',
            'path "x" { capabilities = ["read"] conditions { identity_kinds = ["robot"] } }',
            'path "x" { capabilities = ["read"] conditions { max_ttl = "forever" } }',
        ]
        for text in bad:
            with self.subTest(policy=text), self.assertRaises(hexc.InvalidRequest):
                self.root.sys.create_or_update_policy(unique("badcond"), text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
