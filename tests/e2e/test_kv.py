#!/usr/bin/python3
"""KV v1 / KV v2 secrets engines and sys/mounts end to end against a dev server, driven through
hvac 0.11.2 (secrets.kv.v1.*, secrets.kv.v2.*, sys.enable_secrets_engine /
list_mounted_secrets_engines / disable_secrets_engine / tune_mount_configuration /
read_mount_configuration) plus raw HTTP for what hvac 0.11.2 does not send (merge-patch PATCH,
subkeys, custom_metadata).

Covers vault-api.md §2.4, §2.5, §5.1, §5.2 and the kv rows of §8. Vault's behaviour is the
reference.
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvac.exceptions as hexc  # noqa: E402

import coffer_harness as h  # noqa: E402

DEFAULT_TTL = 768 * 3600
RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


unique = h.unique


class DevServerCase(h.DevServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kv1 = cls.root.secrets.kv.v1
        cls.kv2 = cls.root.secrets.kv.v2

    def assert_404_empty(self, response):
        self.assertEqual(response.status_code, 404, response.text)
        self.assertEqual(response.json(), {"errors": []})


# =============================================================================================


@h.require_binary
class KvV2Test(DevServerCase):

    def test_write_and_read_versions(self):
        path = unique("app")
        resp = self.kv2.create_or_update_secret(path=path, secret={"user": "a", "n": 1})
        meta = resp["data"]
        self.assertEqual(meta["version"], 1)
        self.assertRegex(meta["created_time"], RFC3339_RE)
        self.assertEqual(meta["deletion_time"], "")
        self.assertIs(meta["destroyed"], False)
        self.assertIsNone(meta["custom_metadata"])

        resp = self.kv2.create_or_update_secret(path=path, secret={"user": "b"})
        self.assertEqual(resp["data"]["version"], 2)

        latest = self.kv2.read_secret_version(path=path)["data"]
        self.assertEqual(latest["data"], {"user": "b"})
        self.assertEqual(latest["metadata"]["version"], 2)
        self.assertEqual(latest["metadata"]["deletion_time"], "")
        self.assertIs(latest["metadata"]["destroyed"], False)
        first = self.kv2.read_secret_version(path=path, version=1)["data"]
        self.assertEqual(first["data"], {"user": "a", "n": 1})
        self.assertEqual(first["metadata"]["version"], 1)
        self.assertEqual(self.kv2.read_secret(path=path)["data"]["data"], {"user": "b"})
        # secrets.kv.* dispatches to v2 by default.
        self.assertEqual(self.root.secrets.kv.read_secret_version(path=path)["data"]["data"],
                         {"user": "b"})
        # Nested values round-trip.
        nested = {"a": {"b": [1, 2, {"c": None}]}, "t": True}
        self.kv2.create_or_update_secret(path=path, secret=nested)
        self.assertEqual(self.kv2.read_secret_version(path=path)["data"]["data"], nested)

        with self.assertRaises(hexc.InvalidPath):
            self.kv2.read_secret_version(path=path, version=99)

    def test_absent_secret_and_bad_writes(self):
        self.assert_404_empty(self.raw("GET", "secret/data/" + unique("absent")))
        with self.assertRaises(hexc.InvalidPath):
            self.kv2.read_secret_version(path=unique("absent"))
        self.assertIsNone(self.root.read("secret/data/" + unique("absent")))
        r = self.raw("POST", "secret/data/" + unique("nodata"), json={"options": {}})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("no data provided", r.json()["errors"])
        # Vault's kv v2 answers a path outside data/, metadata/... with 404 plus a warning.
        r = self.raw("GET", "secret/nonsense/" + unique("x"))
        self.assertEqual(r.status_code, 404, r.text)
        self.assertIn("Invalid path for a versioned K/V secrets engine", " ".join(
            r.json().get("warnings") or r.json().get("errors") or []))

    def test_version_query_and_encoded_paths(self):
        path = unique("ver")
        self.kv2.create_or_update_secret(path=path, secret={"v": 1})
        self.kv2.create_or_update_secret(path=path, secret={"v": 2})
        r = self.raw("GET", "secret/data/" + path, params={"version": 0})  # 0 = latest
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["data"], {"v": 2})
        r = self.raw("GET", "secret/data/" + path, params={"version": "abc"})
        self.assertEqual(r.status_code, 400, r.text)

        # hvac percent-encodes path components; the server decodes before routing.
        base = unique("enc")
        odd = base + "/with space/k\u00fc+x"
        self.kv2.create_or_update_secret(path=odd, secret={"odd": True})
        self.assertEqual(self.kv2.read_secret_version(path=odd)["data"]["data"], {"odd": True})
        self.assertEqual(self.kv2.list_secrets(path=base)["data"]["keys"], ["with space/"])
        self.assertEqual(self.kv2.list_secrets(path=base + "/with space")["data"]["keys"],
                         ["k\u00fc+x"])

    def test_delete_version_after(self):
        path = unique("ephemeral")
        self.kv2.create_or_update_secret(path=path, secret={"v": 1})
        self.kv2.update_metadata(path=path, delete_version_after="1s")
        written = self.kv2.create_or_update_secret(path=path, secret={"v": 2})["data"]
        self.assertRegex(written["deletion_time"], RFC3339_RE)  # scheduled deletion
        self.assertEqual(self.kv2.read_secret_version(path=path)["data"]["data"], {"v": 2})
        deadline = time.monotonic() + 6
        while True:
            r = self.raw("GET", "secret/data/" + path)
            if r.status_code != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(r.status_code, 404, r.text)
        self.assertIsNone(r.json()["data"]["data"])

    def test_check_and_set(self):
        path = unique("cas")
        resp = self.kv2.create_or_update_secret(path=path, secret={"v": 1}, cas=0)
        self.assertEqual(resp["data"]["version"], 1)
        with self.assertRaises(hexc.InvalidRequest) as ctx:  # cas 0 = create only
            self.kv2.create_or_update_secret(path=path, secret={"v": 2}, cas=0)
        self.assertIn("check-and-set parameter did not match the current version",
                      ctx.exception.errors)
        with self.assertRaises(hexc.InvalidRequest):
            self.kv2.create_or_update_secret(path=path, secret={"v": 2}, cas=5)
        resp = self.kv2.create_or_update_secret(path=path, secret={"v": 2}, cas=1)
        self.assertEqual(resp["data"]["version"], 2)
        self.assertEqual(self.kv2.read_secret_version(path=path)["data"]["data"], {"v": 2})

        # cas_required on the key's metadata.
        self.kv2.update_metadata(path=path, cas_required=True)
        with self.assertRaises(hexc.InvalidRequest) as ctx:
            self.kv2.create_or_update_secret(path=path, secret={"v": 3})
        self.assertIn("check-and-set parameter required for this call", ctx.exception.errors)
        resp = self.kv2.create_or_update_secret(path=path, secret={"v": 3}, cas=2)
        self.assertEqual(resp["data"]["version"], 3)
        self.assertIs(self.kv2.read_secret_metadata(path=path)["data"]["cas_required"], True)

    def test_max_versions_prunes_old_versions(self):
        path = unique("prune")
        self.kv2.create_or_update_secret(path=path, secret={"v": 1})
        self.kv2.update_metadata(path=path, max_versions=2)
        for v in (2, 3, 4):
            self.kv2.create_or_update_secret(path=path, secret={"v": v})
        meta = self.kv2.read_secret_metadata(path=path)["data"]
        self.assertEqual(meta["max_versions"], 2)
        self.assertEqual(meta["current_version"], 4)
        self.assertEqual(meta["oldest_version"], 3)
        self.assertEqual(sorted(meta["versions"]), ["3", "4"])
        for gone in (1, 2):
            r = self.raw("GET", "secret/data/" + path, params={"version": gone})
            self.assertEqual(r.status_code, 404, r.text)
        self.assertEqual(self.kv2.read_secret_version(path=path, version=3)["data"]["data"],
                         {"v": 3})

    def test_soft_delete_undelete_destroy(self):
        path = unique("del")
        for v in (1, 2, 3):
            self.kv2.create_or_update_secret(path=path, secret={"v": v})

        resp = self.kv2.delete_latest_version_of_secret(path=path)
        self.assertEqual(resp.status_code, 204)
        r = self.raw("GET", "secret/data/" + path)
        self.assertEqual(r.status_code, 404, r.text)
        body = r.json()  # a deleted version is a 404 carrying a full envelope
        self.assertIsNone(body["data"]["data"])
        self.assertEqual(body["data"]["metadata"]["version"], 3)
        self.assertRegex(body["data"]["metadata"]["deletion_time"], RFC3339_RE)
        self.assertIs(body["data"]["metadata"]["destroyed"], False)
        with self.assertRaises(hexc.InvalidPath):
            self.kv2.read_secret_version(path=path)

        self.kv2.delete_secret_versions(path=path, versions=[1])
        self.assertEqual(self.raw("GET", "secret/data/" + path,
                                  params={"version": 1}).status_code, 404)
        self.assertEqual(self.kv2.read_secret_version(path=path, version=2)["data"]["data"],
                         {"v": 2})

        resp = self.kv2.undelete_secret_versions(path=path, versions=[1, 3])
        self.assertEqual(resp.status_code, 204)
        self.assertEqual(self.kv2.read_secret_version(path=path, version=1)["data"]["data"],
                         {"v": 1})
        latest = self.kv2.read_secret_version(path=path)["data"]
        self.assertEqual(latest["data"], {"v": 3})
        self.assertEqual(latest["metadata"]["deletion_time"], "")

        resp = self.kv2.destroy_secret_versions(path=path, versions=[2])
        self.assertEqual(resp.status_code, 204)
        r = self.raw("GET", "secret/data/" + path, params={"version": 2})
        self.assertEqual(r.status_code, 404, r.text)
        self.assertIsNone(r.json()["data"]["data"])
        self.assertIs(r.json()["data"]["metadata"]["destroyed"], True)
        meta = self.kv2.read_secret_metadata(path=path)["data"]
        self.assertIs(meta["versions"]["2"]["destroyed"], True)
        self.assertIs(meta["versions"]["1"]["destroyed"], False)
        # A destroyed version cannot be undeleted.
        self.kv2.undelete_secret_versions(path=path, versions=[2])
        self.assertEqual(self.raw("GET", "secret/data/" + path,
                                  params={"version": 2}).status_code, 404)

        # hvac validates the versions list client-side.
        with self.assertRaises(hexc.ParamValidationError):
            self.kv2.delete_secret_versions(path=path, versions=[])

    def test_metadata_read_update_delete(self):
        path = unique("meta")
        self.kv2.create_or_update_secret(path=path, secret={"v": 1})
        self.kv2.create_or_update_secret(path=path, secret={"v": 2})
        meta = self.kv2.read_secret_metadata(path=path)["data"]
        for key in ("cas_required", "created_time", "current_version", "custom_metadata",
                    "delete_version_after", "max_versions", "oldest_version", "updated_time",
                    "versions"):
            self.assertIn(key, meta)
        self.assertIs(meta["cas_required"], False)
        self.assertEqual(meta["current_version"], 2)
        self.assertEqual(meta["oldest_version"], 0)  # Vault: 0 until versions are pruned
        self.assertEqual(meta["max_versions"], 0)
        self.assertEqual(meta["delete_version_after"], "0s")
        self.assertIsNone(meta["custom_metadata"])
        self.assertRegex(meta["created_time"], RFC3339_RE)
        self.assertRegex(meta["updated_time"], RFC3339_RE)
        self.assertEqual(sorted(meta["versions"]), ["1", "2"])
        for entry in meta["versions"].values():
            self.assertEqual(set(entry), {"created_time", "deletion_time", "destroyed"})

        resp = self.kv2.update_metadata(path=path, max_versions=5, cas_required=False,
                                        delete_version_after="1h")
        self.assertEqual(resp.status_code, 204)
        meta = self.kv2.read_secret_metadata(path=path)["data"]
        self.assertEqual(meta["max_versions"], 5)
        self.assertEqual(meta["delete_version_after"], "1h0m0s")

        resp = self.kv2.delete_metadata_and_all_versions(path=path)
        self.assertEqual(resp.status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            self.kv2.read_secret_metadata(path=path)
        self.assert_404_empty(self.raw("GET", "secret/data/" + path))
        # Writing again starts from version 1.
        resp = self.kv2.create_or_update_secret(path=path, secret={"v": "again"})
        self.assertEqual(resp["data"]["version"], 1)

    def test_custom_metadata(self):
        path = unique("custom")
        self.kv2.create_or_update_secret(path=path, secret={"v": 1})
        r = self.raw("POST", "secret/metadata/" + path,
                     json={"custom_metadata": {"owner": "team-a", "tier": "1"}})
        self.assertEqual(r.status_code, 204, r.text)
        meta = self.kv2.read_secret_metadata(path=path)["data"]
        self.assertEqual(meta["custom_metadata"], {"owner": "team-a", "tier": "1"})
        read = self.kv2.read_secret_version(path=path)["data"]
        self.assertEqual(read["metadata"]["custom_metadata"], {"owner": "team-a", "tier": "1"})
        written = self.kv2.create_or_update_secret(path=path, secret={"v": 2})["data"]
        self.assertEqual(written["custom_metadata"], {"owner": "team-a", "tier": "1"})

        # PATCH metadata (merge-patch): null removes a key.
        r = self.raw("PATCH", "secret/metadata/" + path, headers=MERGE_PATCH,
                     json={"custom_metadata": {"tier": None, "env": "prod"}})
        self.assertEqual(r.status_code, 204, r.text)
        meta = self.kv2.read_secret_metadata(path=path)["data"]
        self.assertEqual(meta["custom_metadata"], {"owner": "team-a", "env": "prod"})
        # Non-string custom metadata values are refused.
        r = self.raw("POST", "secret/metadata/" + path, json={"custom_metadata": {"n": {"x": 1}}})
        self.assertEqual(r.status_code, 400, r.text)

    def test_patch(self):
        path = unique("patch")
        with self.assertRaises(hexc.InvalidPath):  # hvac: patch only works on existing data
            self.kv2.patch(path=path, secret={"a": 1})
        self.kv2.create_or_update_secret(path=path, secret={"a": 1, "b": 2})
        resp = self.kv2.patch(path=path, secret={"b": 3, "c": 4})  # hvac: read + cas write
        self.assertEqual(resp["data"]["version"], 2)
        self.assertEqual(self.kv2.read_secret_version(path=path)["data"]["data"],
                         {"a": 1, "b": 3, "c": 4})

        # Server-side merge-patch.
        r = self.raw("PATCH", "secret/data/" + path, headers=MERGE_PATCH,
                     json={"data": {"a": None, "d": {"x": 1}}})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["version"], 3)
        self.assertEqual(self.kv2.read_secret_version(path=path)["data"]["data"],
                         {"b": 3, "c": 4, "d": {"x": 1}})
        r = self.raw("PATCH", "secret/data/" + path, headers=MERGE_PATCH,
                     json={"data": {"b": 5}, "options": {"cas": 1}})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("PATCH", "secret/data/" + path, json={"data": {"b": 5}})
        self.assertEqual(r.status_code, 415, r.text)
        r = self.raw("PATCH", "secret/data/" + unique("absent"), headers=MERGE_PATCH,
                     json={"data": {"b": 5}})
        self.assertEqual(r.status_code, 404, r.text)
        self.assertEqual(self.kv2.read_secret_version(path=path)["data"]["metadata"]["version"], 3)

    def test_subkeys(self):
        path = unique("subkeys")
        self.kv2.create_or_update_secret(path=path, secret={"a": "1", "nested": {"x": "2",
                                                                                  "y": {"z": 3}}})
        r = self.raw("GET", "secret/subkeys/" + path)
        self.assertEqual(r.status_code, 200, r.text)
        data = r.json()["data"]
        self.assertEqual(data["subkeys"], {"a": None, "nested": {"x": None, "y": {"z": None}}})
        self.assertEqual(data["metadata"]["version"], 1)
        r = self.raw("GET", "secret/subkeys/" + path, params={"depth": 1})
        self.assertEqual(r.json()["data"]["subkeys"], {"a": None, "nested": None})
        self.assertEqual(self.raw("GET", "secret/subkeys/" + unique("absent")).status_code, 404)

    def test_list_secrets(self):
        base = unique("list")
        for p in ("a", "b", "dir/c", "dir/deeper/d"):
            self.kv2.create_or_update_secret(path="%s/%s" % (base, p), secret={"p": p})
        self.assertEqual(self.kv2.list_secrets(path=base)["data"]["keys"], ["a", "b", "dir/"])
        self.assertEqual(self.kv2.list_secrets(path=base + "/dir")["data"]["keys"],
                         ["c", "deeper/"])
        self.assertIn(base + "/", self.kv2.list_secrets(path="")["data"]["keys"])
        r = self.raw("GET", "secret/metadata/" + base + "/", params={"list": "true"})
        self.assertEqual(r.json()["data"]["keys"], ["a", "b", "dir/"])
        self.assertEqual(self.root.list("secret/metadata/" + base)["data"]["keys"],
                         ["a", "b", "dir/"])

        # Empty directory -> 404 {"errors": []}; hvac raises InvalidPath, legacy list -> None.
        with self.assertRaises(hexc.InvalidPath):
            self.kv2.list_secrets(path=unique("empty"))
        self.assert_404_empty(self.raw("LIST", "secret/metadata/" + unique("empty")))
        self.assertIsNone(self.root.list("secret/metadata/" + unique("empty")))

        # A soft-deleted key is still listed; deleting its metadata removes it.
        self.kv2.delete_latest_version_of_secret(path=base + "/a")
        self.assertIn("a", self.kv2.list_secrets(path=base)["data"]["keys"])
        self.kv2.delete_metadata_and_all_versions(path=base + "/a")
        self.assertEqual(self.kv2.list_secrets(path=base)["data"]["keys"], ["b", "dir/"])

    def test_mount_config(self):
        mount = unique("kv2cfg")
        self.root.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
        resp = self.kv2.configure(max_versions=3, cas_required=True, mount_point=mount)
        self.assertEqual(resp.status_code, 204)
        cfg = self.kv2.read_configuration(mount_point=mount)["data"]
        self.assertEqual(cfg["max_versions"], 3)
        self.assertIs(cfg["cas_required"], True)
        self.assertEqual(cfg["delete_version_after"], "0s")
        with self.assertRaises(hexc.InvalidRequest):
            self.kv2.create_or_update_secret(path="x", secret={"a": 1}, mount_point=mount)
        for v in range(1, 6):
            self.kv2.create_or_update_secret(path="x", secret={"v": v}, cas=v - 1,
                                             mount_point=mount)
        meta = self.kv2.read_secret_metadata(path="x", mount_point=mount)["data"]
        self.assertEqual(sorted(meta["versions"]), ["3", "4", "5"])
        self.assertIs(meta["cas_required"], False)  # the key's own setting; the mount's applies

    def test_ui_mounts_preflight(self):
        r = self.raw("GET", "sys/internal/ui/mounts/secret/some/key")
        self.assertEqual(r.status_code, 200, r.text)
        data = r.json()["data"]
        self.assertEqual(data["path"], "secret/")
        self.assertEqual(data["type"], "kv")
        self.assertEqual(data["options"], {"version": "2"})


# =============================================================================================


@h.require_binary
class KvV1Test(DevServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root.sys.enable_secrets_engine("kv", path="kv1")

    def test_create_read_update_delete(self):
        path = unique("app")
        resp = self.kv1.create_or_update_secret(path=path, secret={"user": "a"},
                                                mount_point="kv1")  # GET 404 -> POST
        self.assertEqual(resp.status_code, 204)
        resp = self.kv1.read_secret(path=path, mount_point="kv1")
        self.assertEqual(resp["data"], {"user": "a"})
        self.assertEqual(resp["lease_duration"], DEFAULT_TTL)
        self.assertEqual(resp["lease_id"], "")
        self.assertIs(resp["renewable"], False)

        resp = self.kv1.create_or_update_secret(path=path, secret={"user": "b", "x": 1},
                                                mount_point="kv1")  # GET 200 -> PUT
        self.assertEqual(resp.status_code, 204)
        self.assertEqual(self.kv1.read_secret(path=path, mount_point="kv1")["data"],
                         {"user": "b", "x": 1})  # whole map replaced
        self.kv1.create_or_update_secret(path=path, secret={"only": "me"}, method="POST",
                                         mount_point="kv1")
        self.assertEqual(self.kv1.read_secret(path=path, mount_point="kv1")["data"],
                         {"only": "me"})

        resp = self.kv1.delete_secret(path=path, mount_point="kv1")
        self.assertEqual(resp.status_code, 204)
        with self.assertRaises(hexc.InvalidPath):
            self.kv1.read_secret(path=path, mount_point="kv1")
        self.assert_404_empty(self.raw("GET", "kv1/" + path))
        # Deleting an absent key is fine.
        self.assertEqual(self.kv1.delete_secret(path=path, mount_point="kv1").status_code, 204)

    def test_form_encoded_write(self):
        # vault-api.md §1.2: a body that does not start with { or [ sent as a form is accepted.
        path = unique("form")
        r = self.raw("POST", "kv1/" + path, data="a=1&b=two",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status_code, 204, r.text)
        self.assertEqual(self.kv1.read_secret(path=path, mount_point="kv1")["data"],
                         {"a": "1", "b": "two"})

    def test_ttl_key_sets_lease_duration(self):
        path = unique("ttl")
        self.kv1.create_or_update_secret(path=path, secret={"v": "1", "ttl": "30m"},
                                         mount_point="kv1")
        resp = self.kv1.read_secret(path=path, mount_point="kv1")
        self.assertEqual(resp["lease_duration"], 1800)
        self.assertEqual(resp["data"], {"v": "1", "ttl": "30m"})

    def test_list(self):
        base = unique("list")
        for p in ("a", "b/c", "b/d/e"):
            self.kv1.create_or_update_secret(path="%s/%s" % (base, p), secret={"p": p},
                                             mount_point="kv1")
        self.assertEqual(self.kv1.list_secrets(path=base, mount_point="kv1")["data"]["keys"],
                         ["a", "b/"])
        self.assertEqual(self.kv1.list_secrets(path=base + "/b", mount_point="kv1")["data"]
                         ["keys"], ["c", "d/"])
        r = self.raw("GET", "kv1/" + base, params={"list": "true"})
        self.assertEqual(r.json()["data"]["keys"], ["a", "b/"])
        with self.assertRaises(hexc.InvalidPath):
            self.kv1.list_secrets(path=unique("empty"), mount_point="kv1")
        self.assert_404_empty(self.raw("LIST", "kv1/" + unique("empty")))
        self.kv1.delete_secret(path=base + "/a", mount_point="kv1")
        self.assertEqual(self.kv1.list_secrets(path=base, mount_point="kv1")["data"]["keys"],
                         ["b/"])

    def test_v2_only_paths_do_not_exist_on_v1(self):
        path = unique("plain")
        self.kv1.create_or_update_secret(path=path, secret={"v": 1}, mount_point="kv1")
        # On a v1 mount "data/<p>" is just another key.
        self.assert_404_empty(self.raw("GET", "kv1/data/" + path))
        r = self.raw("GET", "sys/internal/ui/mounts/kv1/" + path)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["path"], "kv1/")
        self.assertEqual(r.json()["data"]["type"], "kv")
        self.assertNotEqual((r.json()["data"].get("options") or {}).get("version"), "2")


# =============================================================================================


@h.require_binary
class MountsTest(DevServerCase):

    def test_list_mounts_and_auth(self):
        mounts = self.root.sys.list_mounted_secrets_engines()
        secret = mounts["data"]["secret/"]
        self.assertEqual(secret["type"], "kv")
        self.assertEqual(secret["options"], {"version": "2"})
        self.assertRegex(secret["accessor"], r"^kv_[0-9a-f]{8}$")
        for key in ("description", "uuid", "local", "seal_wrap", "config"):
            self.assertIn(key, secret)
        self.assertEqual(mounts["secret/"], secret)  # copied to the top level
        self.assertEqual(self.root.sys.retrieve_mount_option("secret", "version"), "2")

        auth = self.root.sys.list_auth_methods()
        self.assertEqual(auth["data"]["token/"]["type"], "token")
        self.assertIn("token/", auth)

    def test_move_backend_keeps_the_data_at_the_new_path(self):
        src, dst = unique("mvsrc"), unique("mvdst")
        self.root.sys.enable_secrets_engine("kv", path=src, options={"version": "2"})
        self.root.secrets.kv.v2.create_or_update_secret("k", {"v": "moved"}, mount_point=src)
        # Vault 1.10+: 200 with a migration id, also copied to the top level (sys/remount is
        # one of the legacy sys routes); hvac's JSON adapter returns the body on 200.
        resp = self.root.sys.move_backend(src, dst)
        self.assertIsInstance(resp, dict, resp)
        migration_id = resp["data"]["migration_id"]
        self.assertRegex(migration_id, r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
        self.assertEqual(resp["migration_id"], migration_id)
        # The move is done inside the request, so the status already reports success.
        r = self.raw("GET", "sys/remount/status/" + migration_id)
        self.assertEqual(r.status_code, 200, r.text)
        status = r.json()
        self.assertEqual(status["data"], {
            "migration_id": migration_id,
            "migration_info": {"source_mount": src + "/", "target_mount": dst + "/",
                               "status": "success"},
        })
        self.assertNotIn("migration_info", status)  # the status route is not a legacy one
        # An unknown id reads as absent, and the status is read-only.
        self.assert_404_empty(self.raw("GET", "sys/remount/status/" + unique("no-such-id")))
        r = self.raw("POST", "sys/remount/status/" + migration_id, json={})
        self.assertEqual(r.status_code, 405, r.text)
        mounts = self.root.sys.list_mounted_secrets_engines()["data"]
        self.assertNotIn(src + "/", mounts)
        self.assertIn(dst + "/", mounts)
        read = self.root.secrets.kv.v2.read_secret_version("k", mount_point=dst)
        self.assertEqual(read["data"]["data"], {"v": "moved"})
        self.assertEqual(self.raw("GET", src + "/data/k").status_code, 404)
        # Moving onto an existing mount is a conflict.
        r = self.raw("POST", "sys/remount", json={"from": dst, "to": "secret"})
        self.assertEqual(r.status_code, 409, r.text)
        # Nothing mounted at `from`, or no `to`: 400.
        r = self.raw("POST", "sys/remount", json={"from": src, "to": unique("mvx")})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("POST", "sys/remount", json={"from": dst})
        self.assertEqual(r.status_code, 400, r.text)

    def test_remount_needs_sudo_but_its_status_does_not(self):
        src, dst = unique("mvsrc"), unique("mvdst")
        self.root.sys.enable_secrets_engine("kv", path=src, options={"version": "2"})
        policy = unique("mover")
        self.root.sys.create_or_update_policy(policy, """
            path "sys/remount" { capabilities = ["update"] }
            path "sys/remount/status/*" { capabilities = ["read"] }
        """)
        token = self.root.auth.token.create(policies=[policy])["auth"]["client_token"]
        # sys/remount is root-protected: update without sudo is denied.
        r = self.raw("POST", "sys/remount", token=token, json={"from": src, "to": dst})
        self.assertEqual(r.status_code, 403, r.text)
        migration_id = self.root.sys.move_backend(src, dst)["data"]["migration_id"]
        # sys/remount/status/<id> is not: read is enough.
        r = self.raw("GET", "sys/remount/status/" + migration_id, token=token)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["migration_info"]["status"], "success")
        # Without a grant on the status path, reading it is denied.
        other = self.root.auth.token.create(policies=["default"])["auth"]["client_token"]
        r = self.raw("GET", "sys/remount/status/" + migration_id, token=other)
        self.assertEqual(r.status_code, 403, r.text)

    def test_enable_read_tune_disable(self):
        mount = unique("m1")
        resp = self.root.sys.enable_secrets_engine("kv", path=mount, description="first one",
                                                   config={"default_lease_ttl": "1h"})
        self.assertEqual(resp.status_code, 204)
        entry = self.root.sys.list_mounted_secrets_engines()["data"][mount + "/"]
        self.assertEqual(entry["type"], "kv")
        self.assertEqual(entry["description"], "first one")
        self.assertRegex(entry["accessor"], r"^kv_[0-9a-f]{8}$")

        r = self.raw("GET", "sys/mounts/" + mount)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["type"], "kv")

        tune = self.root.sys.read_mount_configuration(mount)["data"]
        self.assertEqual(tune["default_lease_ttl"], 3600)
        self.assertEqual(tune["max_lease_ttl"], DEFAULT_TTL)
        self.assertIs(tune["force_no_cache"], False)

        resp = self.root.sys.tune_mount_configuration(mount, default_lease_ttl="30m",
                                                      max_lease_ttl="2h", description="tuned")
        self.assertEqual(resp.status_code, 204)
        tune = self.root.sys.read_mount_configuration(mount)["data"]
        self.assertEqual(tune["default_lease_ttl"], 1800)
        self.assertEqual(tune["max_lease_ttl"], 7200)
        self.assertEqual(tune["description"], "tuned")
        self.assertEqual(self.root.sys.list_mounted_secrets_engines()["data"][mount + "/"]
                         ["description"], "tuned")
        self.kv1.create_or_update_secret(path="k", secret={"v": 1}, mount_point=mount)
        self.assertEqual(self.kv1.read_secret(path="k", mount_point=mount)["data"], {"v": 1})

        resp = self.root.sys.disable_secrets_engine(mount)
        self.assertEqual(resp.status_code, 204)
        self.assertNotIn(mount + "/", self.root.sys.list_mounted_secrets_engines()["data"])
        r = self.raw("GET", mount + "/k")
        self.assertEqual(r.status_code, 404, r.text)
        # Disabling a mount that does not exist is not an error.
        self.assertEqual(self.root.sys.disable_secrets_engine(unique("none")).status_code, 204)

    def test_kv_v1_lease_duration_follows_the_mount_default(self):
        mount = unique("lease")
        self.root.sys.enable_secrets_engine("kv", path=mount, config={"default_lease_ttl": "1h"})
        self.kv1.create_or_update_secret(path="k", secret={"v": 1}, mount_point=mount)
        self.assertEqual(self.kv1.read_secret(path="k", mount_point=mount)["lease_duration"],
                         3600)
        self.root.sys.tune_mount_configuration(mount, default_lease_ttl="30m")
        self.assertEqual(self.kv1.read_secret(path="k", mount_point=mount)["lease_duration"],
                         1800)

    def test_tune_upgrades_kv_v1_to_v2_in_place(self):
        mount = unique("upgrade")
        self.root.sys.enable_secrets_engine("kv", path=mount)
        self.kv1.create_or_update_secret(path="old/key", secret={"v": "kept"}, mount_point=mount)
        resp = self.root.sys.tune_mount_configuration(mount, options={"version": "2"})
        self.assertIn(resp.status_code, (200, 204))
        self.assertEqual(self.root.sys.list_mounted_secrets_engines()["data"][mount + "/"]
                         ["options"]["version"], "2")
        deadline = time.monotonic() + 10  # Vault upgrades asynchronously
        while True:
            r = self.raw("GET", "%s/data/old/key" % mount)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["data"]["data"], {"v": "kept"})
        self.assertEqual(r.json()["data"]["metadata"]["version"], 1)

    def test_disable_removes_data(self):
        for kind, options in (("kv", None), ("kv", {"version": "2"})):
            with self.subTest(options=options):
                mount = unique("gone")
                self.root.sys.enable_secrets_engine(kind, path=mount, options=options)
                if options:
                    self.kv2.create_or_update_secret(path="old", secret={"v": 1},
                                                     mount_point=mount)
                else:
                    self.kv1.create_or_update_secret(path="old", secret={"v": 1},
                                                     mount_point=mount)
                self.root.sys.disable_secrets_engine(mount)
                self.root.sys.enable_secrets_engine(kind, path=mount, options=options)
                if options:
                    with self.assertRaises(hexc.InvalidPath):
                        self.kv2.read_secret_version(path="old", mount_point=mount)
                    with self.assertRaises(hexc.InvalidPath):
                        self.kv2.list_secrets(path="", mount_point=mount)
                else:
                    with self.assertRaises(hexc.InvalidPath):
                        self.kv1.read_secret(path="old", mount_point=mount)
                    with self.assertRaises(hexc.InvalidPath):
                        self.kv1.list_secrets(path="", mount_point=mount)
                self.root.sys.disable_secrets_engine(mount)

    def test_kv_v2_types(self):
        by_type = unique("kvv2")
        self.root.sys.enable_secrets_engine("kv-v2", path=by_type)
        by_option = unique("kvopt")
        self.root.sys.enable_secrets_engine("kv", path=by_option, options={"version": 2})
        mounts = self.root.sys.list_mounted_secrets_engines()["data"]
        for mount in (by_type, by_option):
            with self.subTest(mount=mount):
                self.assertEqual(mounts[mount + "/"]["type"], "kv")
                self.assertEqual(mounts[mount + "/"]["options"], {"version": "2"})
                resp = self.kv2.create_or_update_secret(path="p", secret={"a": 1},
                                                        mount_point=mount)
                self.assertEqual(resp["data"]["version"], 1)
                self.assertEqual(self.kv2.read_secret_version(path="p", mount_point=mount)
                                 ["data"]["data"], {"a": 1})
                r = self.raw("GET", "sys/internal/ui/mounts/%s/p" % mount)
                self.assertEqual(r.json()["data"]["options"], {"version": "2"})

    def test_conflicts_are_409(self):
        mount = unique("dup")
        self.root.sys.enable_secrets_engine("kv", path=mount)
        for path in (mount, mount + "/nested", "secret", "secret/inner"):
            with self.subTest(path=path):
                with self.assertRaises(hexc.UnexpectedError):
                    self.root.sys.enable_secrets_engine("kv", path=path)
                r = self.raw("POST", "sys/mounts/" + path, json={"type": "kv"})
                self.assertEqual(r.status_code, 409, r.text)
                self.assertTrue(any("path is already in use at" in e
                                    for e in r.json()["errors"]), r.text)
        # A parent of an existing mount conflicts too.
        parent = unique("parent")
        self.root.sys.enable_secrets_engine("kv", path=parent + "/child")
        r = self.raw("POST", "sys/mounts/" + parent, json={"type": "kv"})
        self.assertEqual(r.status_code, 409, r.text)

    def test_default_lease_ttl_above_max_is_refused(self):
        # Vault: 400 "given default lease TTL greater than given max lease TTL".
        mount = unique("ttlbad")
        r = self.raw("POST", "sys/mounts/" + mount,
                     json={"type": "kv", "config": {"default_lease_ttl": "2h",
                                                    "max_lease_ttl": "1h"}})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertNotIn(mount + "/", self.root.sys.list_mounted_secrets_engines()["data"])

    def test_bad_mount_requests(self):
        r = self.raw("POST", "sys/mounts/" + unique("notype"), json={})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.raw("POST", "sys/mounts/" + unique("weird"), json={"type": "no-such-engine"})
        self.assertEqual(r.status_code, 400, r.text)
        for reserved in ("sys/extra", "auth/extra", "cubbyhole/extra"):
            with self.subTest(path=reserved):
                r = self.raw("POST", "sys/mounts/" + reserved, json={"type": "kv"})
                self.assertIn(r.status_code, (400, 403, 409), r.text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
