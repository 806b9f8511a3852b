#!/usr/bin/python3
"""Identity (entities, entity aliases, entity-bound tokens, templated policies, identity_kinds)
and TOTP MFA step-up end to end against a dev server, driven through hvac 0.11.2
(secrets.identity.*) and raw HTTP for what hvac 0.11.2 cannot send (identity_kind, entity_id on
auth/token/create, custom_metadata, identity/mfa/*, sys/mfa/step-up).

Covers vault-api.md §3.1/§3.2 (entity_id, identity_policies), §5.8 (identity/), §6.5 (templated
policies) and Coffer's extensions: identity_kind on entities, the identity_kinds and require_mfa
policy conditions, TOTP MFA methods and sys/mfa/step-up. Vault's behaviour is the reference;
the extensions follow Coffer's contract.

TOTP codes are computed here (RFC 6238, checked against the RFC's own test vectors below) from
the secret in the otpauth:// URL that admin-generate returns, so the server's TOTP is verified
against an independent implementation.
"""

import base64
import hashlib
import hmac
import os
import re
import struct
import sys
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvac.exceptions as hexc  # noqa: E402

import coffer_harness as h  # noqa: E402

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")  # RFC 3339, as Vault prints times
ENTITY_FIELDS = {"id", "name", "metadata", "policies", "disabled", "identity_kind", "aliases",
                 "creation_time", "last_update_time", "direct_group_ids", "group_ids",
                 "inherited_group_ids", "merged_entity_ids", "namespace_id"}
ALIAS_FIELDS = {"id", "name", "mount_accessor", "mount_path", "mount_type", "canonical_id",
                "custom_metadata", "creation_time", "last_update_time"}
MFA_METHOD_FIELDS = {"id", "issuer", "period", "key_size", "algorithm", "digits", "skew",
                     "max_validation_attempts", "type"}


unique = h.unique


def totp(secret_b32, t, digits=6, period=30, algo="SHA1"):
    """RFC 6238 TOTP of the base32 secret at unix time t (the secret may lack '=' padding)."""
    secret = secret_b32.strip().upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int(t) // period)
    mac = hmac.new(key, counter, getattr(hashlib, algo.lower())).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def wrong_code(secret_b32, digits=6, period=30, algo="SHA1"):
    """A well-formed passcode that matches none of the steps around now (any skew)."""
    now = time.time()
    valid = {totp(secret_b32, now + k * period, digits, period, algo) for k in range(-3, 4)}
    code = int(totp(secret_b32, now, digits, period, algo))
    while str(code).zfill(digits) in valid:
        code = (code + 1) % 10 ** digits
    return str(code).zfill(digits)


# =============================================================================================


class TotpHelperTest(unittest.TestCase):
    """The helper itself against RFC 6238 appendix B, so a failure below is the server's."""

    SEEDS = {"SHA1": b"12345678901234567890",
             "SHA256": b"12345678901234567890123456789012",
             "SHA512": b"1234567890" * 6 + b"1234"}
    VECTORS = [(59, "94287082", "46119246", "90693936"),
               (1111111109, "07081804", "68084774", "25091201"),
               (1111111111, "14050471", "67062674", "99943326"),
               (1234567890, "89005924", "91819424", "93441116"),
               (2000000000, "69279037", "90698825", "38618901"),
               (20000000000, "65353130", "77737706", "47863826")]

    def test_rfc6238_vectors(self):
        for t, *codes in self.VECTORS:
            for algo, expected in zip(("SHA1", "SHA256", "SHA512"), codes):
                secret = base64.b32encode(self.SEEDS[algo]).decode().rstrip("=")
                with self.subTest(t=t, algo=algo):
                    self.assertEqual(totp(secret, t, digits=8, algo=algo), expected)
                    self.assertEqual(totp(secret.lower(), t, digits=6, algo=algo), expected[2:])


# =============================================================================================


class IdentityCase(h.DevServerCase):
    """Shared dev-server base with identity helpers."""

    # ---- policies, secrets, errors

    def put_policy(self, text, name=None):
        name = name or unique("pol")
        resp = self.root.sys.create_or_update_policy(name=name, policy=text)
        self.assertEqual(resp.status_code, 204)
        return name

    def write_v2(self, path, data=None):
        self.root.secrets.kv.v2.create_or_update_secret(path=path, secret=data or {"v": path})

    def read(self, path, token):
        return self.raw("GET", "secret/data/" + path, token=token)

    def write(self, path, token, data=None):
        return self.raw("POST", "secret/data/" + path, token=token,
                        json={"data": data or {"v": path}})

    def assert_status(self, response, *codes):
        self.assertIn(response.status_code, codes, response.text)
        return response

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

    # ---- identity

    def create_entity(self, name=None, **fields):
        """POST identity/entity (raw, so identity_kind can be sent); returns the new id."""
        body = dict(fields)
        body["name"] = name or unique("ent")
        r = self.raw("POST", "identity/entity", json=body)
        self.assertEqual(r.status_code, 200, r.text)
        entity_id = r.json()["data"]["id"]
        self.assertRegex(entity_id, UUID_RE)
        return entity_id

    def read_entity(self, entity_id):
        return self.root.secrets.identity.read_entity(entity_id=entity_id)["data"]

    def token_accessor(self):
        """The mount accessor of the token auth method."""
        r = self.raw("GET", "sys/auth")
        self.assertEqual(r.status_code, 200, r.text)
        accessor = r.json()["data"]["token/"]["accessor"]
        self.assertTrue(accessor)
        return accessor

    def entity_token(self, entity_id, policies=("default",), parent=None, **extra):
        """auth/token/create with entity_id (raw: hvac 0.11.2 has no entity_id parameter);
        returns the auth block."""
        body = {"policies": list(policies), "entity_id": entity_id}
        body.update(extra)
        r = self.raw("POST", "auth/token/create", token=parent, json=body)
        self.assertEqual(r.status_code, 200, r.text)
        auth = r.json()["auth"]
        self.assertEqual(auth["entity_id"], entity_id)
        return auth

    def lookup_self(self, token):
        r = self.raw("GET", "auth/token/lookup-self", token=token)
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["data"]

    # ---- MFA

    def create_method(self, **fields):
        body = {"issuer": "Coffer e2e"}
        body.update(fields)
        r = self.raw("POST", "identity/mfa/method/totp", json=body)
        self.assertEqual(r.status_code, 200, r.text)
        method_id = r.json()["data"]["method_id"]
        self.assertTrue(method_id)
        return method_id

    def enroll(self, method_id, entity_id):
        """admin-generate; returns (base32 secret, parsed otpauth URL parts)."""
        r = self.raw("POST", "identity/mfa/method/totp/admin-generate",
                     json={"method_id": method_id, "entity_id": entity_id})
        self.assertEqual(r.status_code, 200, r.text)
        data = r.json()["data"]
        self.assertIsInstance(data, dict, r.text)
        self.assertIsInstance(data.get("barcode"), str, r.text)
        url = urllib.parse.urlparse(data["url"])
        self.assertEqual(url.scheme, "otpauth")
        self.assertEqual(url.netloc, "totp")
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        label = urllib.parse.unquote(url.path.lstrip("/"))
        return query["secret"], {"label": label, "query": query}

    def step_up(self, token, method_id, passcode, **extra):
        body = {"method_id": method_id, "passcode": passcode}
        body.update(extra)
        return self.raw("POST", "sys/mfa/step-up", token=token, json=body)


# =============================================================================================


@h.require_binary
class EntityApiTest(IdentityCase):

    def test_identity_is_always_mounted(self):
        r = self.raw("GET", "sys/mounts")
        self.assertEqual(r.status_code, 200, r.text)
        mounts = r.json()["data"]
        self.assertIn("identity/", mounts)
        self.assertEqual(mounts["identity/"]["type"], "identity")

    def test_entity_crud_through_hvac(self):
        ident = self.root.secrets.identity
        name = unique("ent")
        created = ident.create_or_update_entity(name=name, metadata={"team": "blue"},
                                                policies=["app-a"])
        entity_id = created["data"]["id"]
        self.assertRegex(entity_id, UUID_RE)
        self.assertEqual(created["data"]["name"], name)
        self.assertIsNone(created["data"]["aliases"])

        data = ident.read_entity(entity_id=entity_id)["data"]
        self.assertTrue(ENTITY_FIELDS <= set(data), sorted(ENTITY_FIELDS - set(data)))
        self.assertEqual(data["id"], entity_id)
        self.assertEqual(data["name"], name)
        self.assertEqual(data["metadata"], {"team": "blue"})
        self.assertEqual(data["policies"], ["app-a"])
        self.assertIs(data["disabled"], False)
        self.assertEqual(data["identity_kind"], "")
        self.assertEqual(data["aliases"], [])
        self.assertEqual(data["direct_group_ids"], [])
        self.assertEqual(data["group_ids"], [])
        self.assertEqual(data["inherited_group_ids"], [])
        self.assertIsNone(data["merged_entity_ids"])
        self.assertEqual(data["namespace_id"], "root")
        self.assertRegex(data["creation_time"], TIME_RE)
        self.assertRegex(data["last_update_time"], TIME_RE)
        self.assertEqual(ident.read_entity_by_name(name=name)["data"], data)

        # POST identity/entity with a name in use updates that entity: 204.
        resp = ident.create_or_update_entity(name=name, policies=["app-a", "app-b"])
        self.assertEqual(resp.status_code, 204)
        self.assertEqual(sorted(self.read_entity(entity_id)["policies"]), ["app-a", "app-b"])

        # Update by name: 204, data changed, fields not sent keep their values (Vault).
        resp = ident.create_or_update_entity_by_name(name=name, metadata={"team": "red"})
        self.assertEqual(resp.status_code, 204)
        data = ident.read_entity_by_name(name=name)["data"]
        self.assertEqual(data["id"], entity_id)
        self.assertEqual(data["metadata"], {"team": "red"})
        self.assertEqual(sorted(data["policies"]), ["app-a", "app-b"])

        # Update by id: 204.
        resp = ident.update_entity(entity_id=entity_id, policies=["app-c"], disabled=True)
        self.assertEqual(resp.status_code, 204)
        data = self.read_entity(entity_id)
        self.assertEqual(data["policies"], ["app-c"])
        self.assertIs(data["disabled"], True)
        self.assertEqual(data["metadata"], {"team": "red"})

        # Lists: ids with key_info, and names.
        listed = ident.list_entities()["data"]
        self.assertIn(entity_id, listed["keys"])
        self.assertEqual(listed["key_info"][entity_id]["name"], name)
        self.assertIn(name, ident.list_entities_by_name()["data"]["keys"])
        self.assertIn(entity_id, ident.list_entities(method="GET")["data"]["keys"])

        # Lookup by id and by name; 204 when nothing matches.
        self.assertEqual(ident.lookup_entity(entity_id=entity_id)["data"]["id"], entity_id)
        self.assertEqual(ident.lookup_entity(name=name)["data"]["id"], entity_id)
        self.assertEqual(ident.lookup_entity(name=name)["data"]["name"], name)
        none = ident.lookup_entity(name=unique("nobody"))
        self.assertEqual(none.status_code, 204)
        none = ident.lookup_entity(entity_id=str(uuid.uuid4()))
        self.assertEqual(none.status_code, 204)

        # Delete: 204, then 404 everywhere.
        resp = ident.delete_entity(entity_id=entity_id)
        self.assertEqual(resp.status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            ident.read_entity(entity_id=entity_id)
        with self.assertRaises(hexc.InvalidPath):
            ident.read_entity_by_name(name=name)
        try:
            remaining = ident.list_entities()["data"]["keys"]
        except hexc.InvalidPath:  # Vault's 404 for an empty list
            remaining = []
        self.assertNotIn(entity_id, remaining)
        self.assertEqual(ident.lookup_entity(entity_id=entity_id).status_code, 204)

        # Delete by name.
        other = self.create_entity(unique("ent"))
        other_name = self.read_entity(other)["name"]
        self.assertEqual(ident.delete_entity_by_name(name=other_name).status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            ident.read_entity(entity_id=other)

    def test_unknown_entity_is_404_with_empty_errors(self):
        for path in ("identity/entity/id/" + str(uuid.uuid4()),
                     "identity/entity/name/" + unique("missing")):
            with self.subTest(path=path):
                r = self.raw("GET", path)
                self.assertEqual(r.status_code, 404, r.text)
                self.assertEqual(r.json(), {"errors": []})

    def test_generated_name_and_explicit_id(self):
        r = self.raw("POST", "identity/entity", json={})
        self.assertEqual(r.status_code, 200, r.text)
        data = r.json()["data"]
        self.assertRegex(data["name"], r"^entity_[0-9a-f]{8}$")
        self.assertEqual(self.read_entity(data["id"])["name"], data["name"])

        # As in Vault, an id in the body names an existing entity: an unknown one is refused.
        r = self.raw("POST", "identity/entity", json={"id": str(uuid.uuid4()), "name": "x"})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("entity not found from id", r.json()["errors"][0])
        name = unique("with-id")
        chosen = self.raw("POST", "identity/entity", json={"name": name}).json()["data"]["id"]
        # The id of an existing entity makes it an update: 204.
        r = self.raw("POST", "identity/entity", json={"id": chosen, "metadata": {"k": "v"}})
        self.assertEqual(r.status_code, 204, r.text)
        data = self.read_entity(chosen)
        self.assertEqual(data["name"], name)
        self.assertEqual(data["metadata"], {"k": "v"})

    def test_identity_kind(self):
        entity_id = self.create_entity(identity_kind="workload")
        self.assertEqual(self.read_entity(entity_id)["identity_kind"], "workload")
        for kind in ("human", "automation", "agent", "workload"):
            with self.subTest(kind=kind):
                r = self.raw("POST", "identity/entity/id/" + entity_id,
                             json={"identity_kind": kind})
                self.assertEqual(r.status_code, 204, r.text)
                self.assertEqual(self.read_entity(entity_id)["identity_kind"], kind)
        # Other kinds are refused on create and on update, leaving nothing changed.
        name = unique("robot")
        r = self.raw("POST", "identity/entity", json={"name": name, "identity_kind": "robot"})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("GET", "identity/entity/name/" + name)
        self.assertEqual(r.status_code, 404, r.text)
        r = self.raw("POST", "identity/entity/id/" + entity_id, json={"identity_kind": "robot"})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(self.read_entity(entity_id)["identity_kind"], "workload")
        r = self.raw("POST", "identity/entity/name/" + name, json={"identity_kind": "robot"})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(self.raw("GET", "identity/entity/name/" + name).status_code, 404)

    def test_entity_alias_crud_and_lookup(self):
        ident = self.root.secrets.identity
        accessor = self.token_accessor()
        name = unique("aliased")
        entity_id = self.create_entity(name)
        alias_name = unique("login")

        # Refusals: unknown accessor, a secrets-engine accessor, unknown canonical_id.
        with self.assertRaises(hexc.InvalidRequest):
            ident.create_or_update_entity_alias(name=alias_name, canonical_id=entity_id,
                                                mount_accessor="auth_token_" + uuid.uuid4().hex[:8])
        mounts = self.raw("GET", "sys/mounts").json()["data"]
        with self.assertRaises(hexc.InvalidRequest):
            ident.create_or_update_entity_alias(name=alias_name, canonical_id=entity_id,
                                                mount_accessor=mounts["secret/"]["accessor"])
        with self.assertRaises(hexc.InvalidRequest):
            ident.create_or_update_entity_alias(name=alias_name, canonical_id=str(uuid.uuid4()),
                                                mount_accessor=accessor)
        self.assertEqual(self.read_entity(entity_id)["aliases"], [])

        created = ident.create_or_update_entity_alias(name=alias_name, canonical_id=entity_id,
                                                      mount_accessor=accessor)["data"]
        alias_id = created["id"]
        self.assertTrue(alias_id)
        self.assertEqual(created["canonical_id"], entity_id)

        aliases = self.read_entity(entity_id)["aliases"]
        self.assertEqual(len(aliases), 1, aliases)
        alias = aliases[0]
        self.assertTrue(ALIAS_FIELDS <= set(alias), sorted(ALIAS_FIELDS - set(alias)))
        self.assertEqual(alias["id"], alias_id)
        self.assertEqual(alias["name"], alias_name)
        self.assertEqual(alias["mount_accessor"], accessor)
        self.assertEqual(alias["mount_type"], "token")
        self.assertEqual(alias["mount_path"], "auth/token/")
        self.assertEqual(alias["canonical_id"], entity_id)
        self.assertRegex(alias["creation_time"], TIME_RE)

        read = ident.read_entity_alias(alias_id=alias_id)["data"]
        self.assertEqual(read["id"], alias_id)
        self.assertEqual(read["name"], alias_name)
        self.assertEqual(read["canonical_id"], entity_id)
        self.assertEqual(read["mount_accessor"], accessor)
        self.assertIn(alias_id, ident.list_entity_aliases()["data"]["keys"])

        # Update through entity-alias/id/<id> (custom_metadata needs raw HTTP).
        r = self.raw("POST", "identity/entity-alias/id/" + alias_id,
                     json={"custom_metadata": {"dept": "ops"}})
        self.assert_status(r, 200, 204)
        self.assertEqual(ident.read_entity_alias(alias_id=alias_id)["data"]["custom_metadata"],
                         {"dept": "ops"})
        self.assertEqual(self.read_entity(entity_id)["aliases"][0]["custom_metadata"],
                         {"dept": "ops"})

        # Lookups through the alias.
        found = ident.lookup_entity(alias_name=alias_name, alias_mount_accessor=accessor)
        self.assertEqual(found["data"]["id"], entity_id)
        self.assertEqual(found["data"]["name"], name)
        self.assertEqual(ident.lookup_entity(alias_id=alias_id)["data"]["id"], entity_id)
        none = ident.lookup_entity(alias_name=unique("nobody"), alias_mount_accessor=accessor)
        self.assertEqual(none.status_code, 204)

        # Delete the alias: 204, then 404 and gone from the entity.
        self.assertEqual(ident.delete_entity_alias(alias_id=alias_id).status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            ident.read_entity_alias(alias_id=alias_id)
        self.assertEqual(self.read_entity(entity_id)["aliases"], [])

        # Deleting an entity deletes its aliases.
        alias_id = ident.create_or_update_entity_alias(name=unique("login"),
                                                       canonical_id=entity_id,
                                                       mount_accessor=accessor)["data"]["id"]
        self.assertEqual(ident.delete_entity(entity_id=entity_id).status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            ident.read_entity_alias(alias_id=alias_id)


# =============================================================================================


@h.require_binary
class EntityTokenTest(IdentityCase):

    def test_token_entity_id_inheritance_and_refusals(self):
        entity_id = self.create_entity()
        auth = self.entity_token(entity_id)
        token = auth["client_token"]
        self.assertEqual(self.root.auth.token.lookup(token)["data"]["entity_id"], entity_id)
        self.assertEqual(self.lookup_self(token)["entity_id"], entity_id)

        creator = self.put_policy("""
            path "auth/token/create" { capabilities = ["create", "update"] }
        """)
        parent = self.entity_token(entity_id, policies=[creator])["client_token"]
        child = self.server.hvac(parent).auth.token.create(policies=["default"])["auth"]
        self.assertEqual(child["entity_id"], entity_id)
        self.assertEqual(self.lookup_self(child["client_token"])["entity_id"], entity_id)
        self.assertEqual(self.root.auth.token.lookup(child["client_token"])["data"]["entity_id"],
                         entity_id)

        # Without sudo a token may not choose an entity, neither a first one nor another one.
        other = self.create_entity()
        plain = self.server.hvac(self.root_token).auth.token.create(
            policies=[creator])["auth"]["client_token"]
        for caller in (plain, parent):
            with self.subTest(caller_has_entity=caller == parent):
                r = self.raw("POST", "auth/token/create", token=caller,
                             json={"policies": ["default"], "entity_id": other})
                self.assertIn(r.status_code, (400, 403), r.text)
                self.assertTrue(r.json().get("errors"), r.text)

        # With sudo on auth/token/create it may.
        sudo = self.put_policy("""
            path "auth/token/create" { capabilities = ["create", "update", "sudo"] }
        """)
        sudo_token = self.server.hvac(self.root_token).auth.token.create(
            policies=[sudo])["auth"]["client_token"]
        self.entity_token(other, parent=sudo_token)

        # Unknown and disabled entities are refused, even for root.
        r = self.raw("POST", "auth/token/create",
                     json={"policies": ["default"], "entity_id": str(uuid.uuid4())})
        self.assertEqual(r.status_code, 400, r.text)
        disabled = self.create_entity(disabled=True)
        r = self.raw("POST", "auth/token/create",
                     json={"policies": ["default"], "entity_id": disabled})
        self.assertEqual(r.status_code, 400, r.text)

    def test_entity_policies_apply_at_request_time(self):
        path = unique("entpol")
        self.write_v2(path + "/s", {"pw": "hunter2"})
        policy = self.put_policy('path "secret/data/%s/*" { capabilities = ["read"] }' % path)
        entity_id = self.create_entity(policies=[policy])
        token = self.entity_token(entity_id)["client_token"]

        r = self.read(path + "/s", token)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["data"], {"pw": "hunter2"})
        data = self.lookup_self(token)
        self.assertEqual(data["identity_policies"], [policy])
        self.assertEqual(data["policies"], ["default"])
        self.assertEqual(data["entity_id"], entity_id)

        # Removing the policy from the entity applies to the very next request.
        resp = self.root.secrets.identity.update_entity(entity_id=entity_id, policies=[])
        self.assertEqual(resp.status_code, 204)
        self.assert_denied(self.read(path + "/s", token))
        self.assertFalse(self.lookup_self(token).get("identity_policies"))
        # And adding it back, too.
        self.root.secrets.identity.update_entity(entity_id=entity_id, policies=[policy])
        self.assertEqual(self.read(path + "/s", token).status_code, 200)

    def test_disabled_and_deleted_entity_block_every_request(self):
        path = unique("disabled")
        self.write_v2(path + "/s")
        policy = self.put_policy('path "secret/data/%s/*" { capabilities = ["read"] }' % path)
        name = unique("toggled")
        entity_id = self.create_entity(name, policies=[policy])
        token = self.entity_token(entity_id)["client_token"]

        def assert_works():
            self.assertEqual(self.raw("GET", "auth/token/lookup-self", token=token).status_code,
                             200)
            self.assertEqual(self.read(path + "/s", token).status_code, 200)

        def assert_blocked():
            for method, p in (("GET", "auth/token/lookup-self"), ("GET", "secret/data/%s/s" % path),
                              ("POST", "sys/capabilities-self")):
                with self.subTest(method=method, path=p):
                    r = self.raw(method, p, token=token,
                                 json={"paths": ["x"]} if method == "POST" else None)
                    self.assertEqual(r.status_code, 403, r.text)

        assert_works()
        ident = self.root.secrets.identity
        self.assertEqual(ident.update_entity(entity_id=entity_id, disabled=True).status_code, 204)
        assert_blocked()
        self.assertEqual(ident.update_entity(entity_id=entity_id, disabled=False).status_code,
                         204)
        assert_works()
        self.assertEqual(ident.delete_entity(entity_id=entity_id).status_code, 204)
        assert_blocked()
        # Re-creating an entity with the same name does not revive the token (new id).
        self.assertNotEqual(self.create_entity(name, policies=[policy]), entity_id)
        assert_blocked()

    def test_templated_policies(self):
        accessor = self.token_accessor()
        tag = uuid.uuid4().hex[:8]
        blue, red = "blue-" + tag, "red-" + tag
        policy = self.put_policy("""
            path "secret/data/users/{{identity.entity.name}}/*" {
              capabilities = ["read", "create", "update"]
            }
            path "secret/data/teams/{{identity.entity.metadata.team}}/*" {
              capabilities = ["read", "create", "update"]
            }
            path "secret/data/exact/{{identity.entity.name}}" {
              capabilities = ["read"]
            }
            path "secret/data/alias/{{identity.entity.aliases.%s.name}}/*" {
              capabilities = ["read"]
            }
        """ % accessor)

        alice_name, bob_name = unique("alice"), unique("bob")
        alice = self.create_entity(alice_name, metadata={"team": blue})
        bob = self.create_entity(bob_name, metadata={"team": red})
        alias_name = unique("alice-login")
        self.root.secrets.identity.create_or_update_entity_alias(
            name=alias_name, canonical_id=alice, mount_accessor=accessor)
        for p in ("users/%s/k" % bob_name, "teams/%s/k" % red, "exact/" + alice_name,
                  "alias/%s/k" % alias_name, "alias/%s/k" % bob_name):
            self.write_v2(p)
        token = self.entity_token(alice, policies=[policy])["client_token"]

        # Alice writes and reads her own user and team paths.
        for p in ("users/%s/k" % alice_name, "teams/%s/k" % blue):
            with self.subTest(path=p):
                self.assert_status(self.write(p, token, {"owner": "alice"}), 200, 204)
                r = self.read(p, token)
                self.assertEqual(r.status_code, 200, r.text)
                self.assertEqual(r.json()["data"]["data"], {"owner": "alice"})
        self.assertEqual(self.read("exact/" + alice_name, token).status_code, 200)
        self.assertEqual(self.read("alias/%s/k" % alias_name, token).status_code, 200)
        # ...and nothing of bob's or team red's.
        for p in ("users/%s/k" % bob_name, "teams/%s/k" % red, "alias/%s/k" % bob_name,
                  "users/%s/k" % alias_name):
            with self.subTest(path=p):
                self.assert_denied(self.read(p, token))
                self.assert_denied(self.write(p, token))
        # The default policy's templates: her own entity, not bob's.
        self.assertEqual(self.raw("GET", "identity/entity/id/" + alice, token=token).status_code,
                         200)
        self.assertEqual(self.raw("GET", "identity/entity/name/" + alice_name,
                                  token=token).status_code, 200)
        self.assertEqual(self.raw("GET", "identity/entity/id/" + bob, token=token).status_code,
                         403)

        # A token without an entity: every templated stanza is dropped.
        plain = self.root.auth.token.create(policies=[policy])["auth"]["client_token"]
        for p in ("users/%s/k" % alice_name, "teams/%s/k" % blue, "exact/" + alice_name,
                  "alias/%s/k" % alias_name):
            with self.subTest(no_entity=p):
                self.assert_denied(self.read(p, plain))

        # Templates render per request: a metadata change moves alice to team red at once.
        self.root.secrets.identity.update_entity(entity_id=alice, metadata={"team": red})
        self.assertEqual(self.read("teams/%s/k" % red, token).status_code, 200)
        self.assert_denied(self.read("teams/%s/k" % blue, token))

    def test_template_values_with_glob_or_slash_drop_the_stanza(self):
        tag = uuid.uuid4().hex[:8]
        red = "red-" + tag
        policy = self.put_policy("""
            path "secret/data/users/{{identity.entity.name}}/*" {
              capabilities = ["read", "create", "update"]
            }
            path "secret/data/teams/{{identity.entity.metadata.team}}/*" {
              capabilities = ["read", "create", "update"]
            }
            path "secret/data/exact/{{identity.entity.name}}" {
              capabilities = ["read"]
            }
        """)
        # Paths a widened stanza would open.
        victims = ["teams/%s/k" % red, "teams/%s/sub/k" % red]
        for p in victims:
            self.write_v2(p)

        # Metadata values with '+' (one-segment glob) or '/' (more segments): only the team
        # stanza is dropped; the name stanza of the same policy still works.
        for team in ("+", red + "/sub", "*"):
            with self.subTest(team=team):
                name = unique("meta")
                entity_id = self.create_entity(name, metadata={"team": team})
                token = self.entity_token(entity_id, policies=[policy])["client_token"]
                for p in victims:
                    self.assert_denied(self.read(p, token))
                    self.assert_denied(self.write(p, token))
                self.assert_status(self.write("users/%s/k" % name, token), 200, 204)
                self.assertEqual(self.read("users/%s/k" % name, token).status_code, 200)

        # An entity name with '*': "secret/data/exact/<prefix>*" would be a prefix glob.
        prefix = unique("wild")
        self.write_v2("exact/%s-victim" % prefix)
        self.write_v2("users/%s-victim/k" % prefix)
        r = self.raw("POST", "identity/entity", json={"name": prefix + "*"})
        if r.status_code == 400:
            return  # refusing such a name is an equally safe outcome
        self.assertEqual(r.status_code, 200, r.text)
        token = self.entity_token(r.json()["data"]["id"], policies=[policy])["client_token"]
        self.assert_denied(self.read("exact/%s-victim" % prefix, token))
        self.assert_denied(self.read("users/%s-victim/k" % prefix, token))

    def test_identity_kinds_condition(self):
        path = unique("kinds")
        self.write_v2(path + "/s")
        pattern = "secret/data/%s/*" % path
        policy = self.put_policy('path "%s" {\n  capabilities = ["read"]\n'
                                 '  conditions { identity_kinds = ["workload"] }\n}\n' % pattern)
        workload = self.entity_token(self.create_entity(identity_kind="workload"),
                                     policies=[policy])
        human = self.entity_token(self.create_entity(identity_kind="human"), policies=[policy])
        unset = self.entity_token(self.create_entity(), policies=[policy])
        plain = self.root.auth.token.create(policies=[policy])["auth"]

        self.assertEqual(self.read(path + "/s", workload["client_token"]).status_code, 200)
        for label, auth in (("human", human), ("unset", unset), ("no entity", plain)):
            with self.subTest(token=label):
                self.assert_denied(self.read(path + "/s", auth["client_token"]), pattern,
                                   "identity_kinds")

        # sys/policy-check explains it, by accessor (root) and for the caller itself.
        for token, extra in ((None, {"accessor": human["accessor"]}),
                             (human["client_token"], {})):
            with self.subTest(self_check=token is not None):
                body = {"path": "secret/data/%s/s" % path, "operation": "read"}
                body.update(extra)
                r = self.raw("POST", "sys/policy-check", token=token, json=body)
                self.assertEqual(r.status_code, 200, r.text)
                data = r.json()["data"]
                self.assertIs(data["allowed"], False)
                self.assertEqual(data["matched_pattern"], pattern)
                self.assertIn("identity_kinds", data["reason"])
        r = self.raw("POST", "sys/policy-check", json={
            "path": "secret/data/%s/s" % path, "operation": "read",
            "accessor": workload["accessor"]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIs(r.json()["data"]["allowed"], True)

        # The kind is read at request time: the human becomes a workload.
        human_entity = human["entity_id"]
        r = self.raw("POST", "identity/entity/id/" + human_entity,
                     json={"identity_kind": "workload"})
        self.assertEqual(r.status_code, 204, r.text)
        self.assertEqual(self.read(path + "/s", human["client_token"]).status_code, 200)


# =============================================================================================


@h.require_binary
class MfaTest(IdentityCase):

    def test_totp_method_crud_and_validation(self):
        method_id = self.create_method(issuer="Coffer", period=30, key_size=20,
                                       algorithm="SHA256", digits=8, skew=0,
                                       max_validation_attempts=3)
        r = self.raw("GET", "identity/mfa/method/totp/" + method_id)
        self.assertEqual(r.status_code, 200, r.text)
        data = r.json()["data"]
        self.assertTrue(MFA_METHOD_FIELDS <= set(data), sorted(MFA_METHOD_FIELDS - set(data)))
        self.assertEqual(data["id"], method_id)
        self.assertEqual(data["issuer"], "Coffer")
        self.assertEqual(data["period"], 30)
        self.assertEqual(data["key_size"], 20)
        self.assertEqual(data["algorithm"], "SHA256")
        self.assertEqual(data["digits"], 8)
        self.assertEqual(data["skew"], 0)
        self.assertEqual(data["max_validation_attempts"], 3)
        self.assertEqual(data["type"], "totp")

        defaults_id = self.create_method(issuer="Defaults")
        data = self.raw("GET", "identity/mfa/method/totp/" + defaults_id).json()["data"]
        self.assertEqual((data["period"], data["key_size"], data["algorithm"], data["digits"],
                          data["skew"], data["max_validation_attempts"]),
                         (30, 20, "SHA1", 6, 1, 5))

        r = self.raw("LIST", "identity/mfa/method/totp")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertTrue({method_id, defaults_id} <= set(r.json()["data"]["keys"]))

        r = self.raw("DELETE", "identity/mfa/method/totp/" + method_id)
        self.assertEqual(r.status_code, 204, r.text)
        r = self.raw("GET", "identity/mfa/method/totp/" + method_id)
        self.assertEqual(r.status_code, 404, r.text)
        r = self.raw("LIST", "identity/mfa/method/totp")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertNotIn(method_id, r.json()["data"]["keys"])
        self.assertIn(defaults_id, r.json()["data"]["keys"])

        for bad in ({"algorithm": "MD5"}, {"digits": 7}, {"skew": 2}):
            with self.subTest(**bad):
                body = {"issuer": "Bad"}
                body.update(bad)
                r = self.raw("POST", "identity/mfa/method/totp", json=body)
                self.assertEqual(r.status_code, 400, r.text)

        # Self-enrolment needs an entity: root has none.
        r = self.raw("POST", "identity/mfa/method/totp/generate", json={"method_id": defaults_id})
        self.assertEqual(r.status_code, 400, r.text)

    def test_admin_generate_url_warning_destroy_and_self_generate(self):
        method_id = self.create_method(issuer="Coffer e2e", algorithm="SHA256", digits=8)
        name = unique("mfa-url")
        entity_id = self.create_entity(name)
        secret, url = self.enroll(method_id, entity_id)
        self.assertEqual(url["label"], "Coffer e2e:" + name)
        self.assertEqual(url["query"]["issuer"], "Coffer e2e")
        self.assertEqual(url["query"]["algorithm"], "SHA256")
        self.assertEqual(url["query"]["digits"], "8")
        self.assertEqual(url["query"]["period"], "30")
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        self.assertEqual(len(key), 20)

        # A second admin-generate keeps the secret and warns.
        r = self.raw("POST", "identity/mfa/method/totp/admin-generate",
                     json={"method_id": method_id, "entity_id": entity_id})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIsNone(r.json().get("data"))
        self.assertIn("Entity already has a secret for MFA method", r.json().get("warnings") or [])

        # The server's SHA256 / 8-digit TOTP agrees with ours.
        token = self.entity_token(entity_id, ttl="1h")["client_token"]
        code = totp(secret, time.time(), digits=8, algo="SHA256")
        r = self.step_up(token, method_id, code)
        self.assertEqual(r.status_code, 200, r.text)

        # admin-destroy removes the enrolment: the old secret no longer works, a new one is new.
        r = self.raw("POST", "identity/mfa/method/totp/admin-destroy",
                     json={"method_id": method_id, "entity_id": entity_id})
        self.assertEqual(r.status_code, 204, r.text)
        later = totp(secret, time.time() + 30, digits=8, algo="SHA256")
        r = self.step_up(token, method_id, later)
        self.assertIn(r.status_code, (400, 403), r.text)
        new_secret, _ = self.enroll(method_id, entity_id)
        self.assertNotEqual(new_secret, secret)

        # Self-enrolment through generate, for a token's own entity.
        self_name = unique("mfa-self")
        self_entity = self.create_entity(self_name)
        gen = self.put_policy('path "identity/mfa/method/totp/generate" '
                              '{ capabilities = ["update"] }')
        self_token = self.entity_token(self_entity, policies=[gen])["client_token"]
        r = self.raw("POST", "identity/mfa/method/totp/generate", token=self_token,
                     json={"method_id": method_id})
        self.assertEqual(r.status_code, 200, r.text)
        parts = urllib.parse.urlparse(r.json()["data"]["url"])
        self.assertEqual(urllib.parse.unquote(parts.path.lstrip("/")), "Coffer e2e:" + self_name)
        self.assertIn("secret", urllib.parse.parse_qs(parts.query))

    def test_step_up_unlocks_require_mfa(self):
        method_id = self.create_method()
        entity_id = self.create_entity(unique("mfa-user"))
        secret, _ = self.enroll(method_id, entity_id)
        path = unique("mfa")
        self.write_v2(path + "/s", {"pw": "s3cret"})
        pattern = "secret/data/%s/*" % path
        policy = self.put_policy('path "%s" {\n  capabilities = ["read"]\n'
                                 '  conditions { require_mfa = true }\n}\n' % pattern)
        auth = self.entity_token(entity_id, policies=[policy], ttl="1h")
        token = auth["client_token"]
        self.assert_denied(self.read(path + "/s", token), pattern, "require_mfa")

        step = int(time.time()) // 30
        code = totp(secret, step * 30)
        r = self.step_up(token, method_id, code)
        self.assertEqual(r.status_code, 200, r.text)
        up = r.json()["auth"]
        self.assertTrue(up["client_token"])
        self.assertNotEqual(up["client_token"], token)
        self.assertTrue(up["accessor"])
        self.assertEqual(up["entity_id"], entity_id)
        self.assertIn(policy, up["policies"])
        self.assertIs(up["renewable"], False)
        self.assertTrue(0 < up["lease_duration"] <= 900, up["lease_duration"])

        r = self.read(path + "/s", up["client_token"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["data"], {"pw": "s3cret"})
        data = self.lookup_self(up["client_token"])
        self.assertIs(data["mfa_validated"], True)
        self.assertEqual(data["entity_id"], entity_id)
        # The original token is unchanged.
        self.assertFalse(self.lookup_self(token).get("mfa_validated", False))
        self.assert_denied(self.read(path + "/s", token), "require_mfa")

        # Replay of the accepted code, then a wrong code.
        self.assert_denied(self.step_up(token, method_id, code), "MFA passcode already used")
        self.assert_denied(self.step_up(token, method_id, wrong_code(secret)),
                           "MFA validation failed")

        # A later step (the default skew of 1 accepts the next one) written "123 456", with a
        # shorter ttl.
        step2 = max(int(time.time()) // 30, step + 1)
        code2 = totp(secret, step2 * 30)
        r = self.step_up(token, method_id, code2[:3] + " " + code2[3:], ttl="60s")
        self.assertEqual(r.status_code, 200, r.text)
        up2 = r.json()["auth"]
        self.assertTrue(0 < up2["lease_duration"] <= 60, up2["lease_duration"])
        self.assertEqual(self.read(path + "/s", up2["client_token"]).status_code, 200)

        # The stepped-up tokens are children of the caller's token.
        self.root.auth.token.revoke(token)
        for t in (up["client_token"], up2["client_token"]):
            r = self.raw("GET", "auth/token/lookup-self", token=t)
            self.assertEqual(r.status_code, 403, r.text)

    def test_max_validation_attempts(self):
        period = 60
        method_id = self.create_method(max_validation_attempts=2, period=period)
        entity_id = self.create_entity(unique("mfa-locked"))
        secret, _ = self.enroll(method_id, entity_id)
        token = self.entity_token(entity_id, ttl="1h")["client_token"]
        # The lockout lasts until the next period: keep all three attempts inside one.
        left = period - time.time() % period
        if left < 6:
            time.sleep(left + 0.5)
        bad = wrong_code(secret, period=period)
        for _ in range(2):
            self.assert_denied(self.step_up(token, method_id, bad), "MFA validation failed")
        right = totp(secret, time.time(), period=period)
        self.assert_denied(self.step_up(token, method_id, right),
                           "maximum MFA validation attempts exceeded")

    def test_step_up_needs_an_enrolled_entity(self):
        method_id = self.create_method()
        plain = self.root.auth.token.create(policies=["default"])["auth"]["client_token"]
        r = self.step_up(plain, method_id, "123456")
        self.assertEqual(r.status_code, 400, r.text)
        # An entity that never enrolled in the method is refused too.
        token = self.entity_token(self.create_entity())["client_token"]
        r = self.step_up(token, method_id, "123456")
        self.assertIn(r.status_code, (400, 403), r.text)
        self.assertFalse(r.json().get("auth"), r.text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
