#!/usr/bin/python3
"""The `coffer` command-line client driven as a user would: a real server (dev mode, or a
config-mode server for init/unseal/seal), VAULT_ADDR / VAULT_CACERT in the environment, a
private HOME for the token file, and the vault CLI's verbs, flags, output formats and exit
codes (0 success, 1 usage or local error, 2 API error; `status` 2 when sealed).

Covers SECURITY.md §K (91: secrets from stdin, token file 0600; 92: no token in failure output;
93: TLS verified by default, VAULT_CACERT honoured, -tls-skip-verify warns).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coffer_harness as h  # noqa: E402

CLI_TIMEOUT = 30.0


def clean_env():
    """The caller's environment without any VAULT_* / COFFER_* setting."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("VAULT_") and not k.startswith("COFFER_")}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class CliCase(unittest.TestCase):
    """Runs the CLI against self.server with a private HOME."""

    server = None
    token = None  # sent as VAULT_TOKEN unless a call says otherwise
    home = None

    @classmethod
    def make_home(cls):
        home = tempfile.TemporaryDirectory(prefix="coffer-e2e-home-")
        cls.addClassCleanup(home.cleanup)
        return home.name

    def cli(self, *args, input=None, token="default", env=None, ca="default", address=None):
        """Runs coffer; returns CompletedProcess with text stdout/stderr.

        token: "default" = class token via VAULT_TOKEN, None = no token env var, else that token.
        ca: "default" = the server CA via VAULT_CACERT, None = no CA setting, else a path.
        """
        e = clean_env()
        e["HOME"] = self.home
        e["VAULT_ADDR"] = address or self.server.url
        if ca == "default":
            e["VAULT_CACERT"] = self.server.ca
        elif ca is not None:
            e["VAULT_CACERT"] = ca
        if token == "default":
            token = self.token
        if token is not None:
            e["VAULT_TOKEN"] = token
        e.update(env or {})
        return subprocess.run([h.COFFER_BIN] + list(args), input=input, env=e,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=CLI_TIMEOUT)

    def ok(self, *args, **kwargs):
        p = self.cli(*args, **kwargs)
        self.assertEqual(p.returncode, 0, "coffer %s -> %d\nstdout:\n%s\nstderr:\n%s"
                         % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def json(self, *args, **kwargs):
        return json.loads(self.ok(*(args + ("-format=json",)), **kwargs).stdout)

    def fails(self, code, *args, **kwargs):
        p = self.cli(*args, **kwargs)
        self.assertEqual(p.returncode, code, "coffer %s -> %d (wanted %d)\nstdout:\n%s\nstderr:\n%s"
                         % (" ".join(args), p.returncode, code, p.stdout, p.stderr))
        return p

    def table(self, text):
        """Key/Value rows of a vault-style table as a dict."""
        rows = {}
        for line in text.splitlines():
            parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            if len(parts) == 2:
                rows[parts[0]] = parts[1]
        return rows


@h.require_binary
class DevServerCliTest(CliCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-cli-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.token = "e2e-root-" + uuid.uuid4().hex
        cls.server = h.CofferServer.dev(cls.tmp, root_token=cls.token)
        cls.addClassCleanup(cls.server.kill)
        cls.server.start()
        cls.home = cls.make_home()

    def write_file(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(content)
        return path

    # ---- status, key status --------------------------------------------------------------

    def test_status_and_key_status(self):
        p = self.ok("status")
        rows = self.table(p.stdout)
        self.assertEqual(rows["Sealed"], "false")
        self.assertEqual(rows["Initialized"], "true")
        self.assertEqual(rows["Seal Type"], "shamir")
        self.assertTrue(p.stdout.startswith("Key "), p.stdout)
        status = self.json("status")
        self.assertIs(status["sealed"], False)
        self.assertEqual((status["t"], status["n"]), (1, 1))
        self.assertIs(status["ha_enabled"], False)

        rows = self.table(self.ok("operator", "key-status").stdout)
        self.assertGreaterEqual(int(rows["Key Term"]), 1)
        self.assertIn("Install Time", rows)
        key_status = self.json("operator", "key-status")
        self.assertGreaterEqual(key_status["term"], 1)

    # ---- login and the token file ---------------------------------------------------------

    def test_login_reads_stdin_and_stores_a_0600_token_file(self):
        home = self.make_home()
        token_file = os.path.join(home, ".coffer-token")
        # A pre-existing, too-open file must end up 0600 too.
        with open(token_file, "w") as f:
            f.write("stale")
        os.chmod(token_file, 0o644)

        saved_home, self.home = self.home, home
        try:
            p = self.ok("login", token=None, input=self.token + "\n")
            self.assertIn("Success! You are now authenticated", p.stdout)
            self.assertNotIn(self.token, p.stdout + p.stderr)
            self.assertEqual(os.stat(token_file).st_mode & 0o777, 0o600)
            with open(token_file) as f:
                self.assertEqual(f.read().strip(), self.token)

            # Later commands use the file when no token variable is set.
            path = unique("secret/login")
            self.ok("kv", "put", path, "k=v", token=None)
            self.assertEqual(self.ok("kv", "get", "-field=k", path, token=None).stdout, "v")
            lookup = self.json("token", "lookup", token=None)
            self.assertEqual(lookup["data"]["policies"], ["root"])

            # `login -` reads stdin as well; a bad token fails with 2, leaves the stored token
            # alone, and is never echoed.
            bad = "bad-" + uuid.uuid4().hex
            p = self.fails(2, "login", "-", token=None, input=bad)
            self.assertIn("Code: 403", p.stderr)
            self.assertNotIn(bad, p.stdout + p.stderr)
            with open(token_file) as f:
                self.assertEqual(f.read().strip(), self.token)

            # The environment wins over the file, and COFFER_TOKEN over VAULT_TOKEN.
            p = self.fails(2, "token", "lookup", token=bad)
            self.assertNotIn(bad, p.stdout + p.stderr)
            self.ok("token", "lookup", token=bad, env={"COFFER_TOKEN": self.token})
            self.fails(2, "token", "lookup", token=self.token, env={"COFFER_TOKEN": bad})
        finally:
            self.home = saved_home

    # ---- KV version 2 ---------------------------------------------------------------------

    def test_kv_v2_round_trip(self):
        path = unique("secret/app")
        put = self.json("kv", "put", path, "user=alice", "pass=one")
        self.assertEqual(put["data"]["version"], 1)
        p = self.ok("kv", "put", path, "user=alice", "pass=two")
        self.assertIn("Secret Path", p.stdout)
        self.assertIn(path.replace("secret/", "secret/data/"), p.stdout)
        self.assertEqual(self.table(p.stdout)["version"], "2")

        got = self.json("kv", "get", path)
        self.assertEqual(got["data"]["data"], {"user": "alice", "pass": "two"})
        self.assertEqual(got["data"]["metadata"]["version"], 2)
        rows = self.table(self.ok("kv", "get", path).stdout)
        self.assertEqual(rows["pass"], "two")
        self.assertEqual(rows["version"], "2")
        self.assertEqual(self.ok("kv", "get", "-field=pass", path).stdout, "two")
        self.assertEqual(self.ok("kv", "get", "-version=1", "-field=pass", path).stdout, "one")
        # -mount names the mount; the path is then relative to it.
        self.assertEqual(self.ok("kv", "get", "-mount=secret", "-field=user",
                                 path[len("secret/"):]).stdout, "alice")
        self.fails(1, "kv", "get", "-field=nope", path)

        # Check-and-set: a stale version is refused by the server (API error, 2).
        p = self.fails(2, "kv", "put", "-cas=1", path, "pass=three")
        self.assertIn("check-and-set", p.stderr)
        self.ok("kv", "put", "-cas=2", path, "pass=three")

        patched = self.json("kv", "patch", path, "extra=x")
        self.assertEqual(patched["data"]["version"], 4)
        # put replaces the whole secret; patch keeps the other keys.
        self.assertEqual(self.json("kv", "get", path)["data"]["data"],
                         {"pass": "three", "extra": "x"})
        self.ok("kv", "patch", "-method=rw", path, "extra=y")
        self.assertEqual(self.ok("kv", "get", "-field=extra", path).stdout, "y")

        parent, leaf = path.rsplit("/", 1)
        self.assertIn(leaf, self.json("kv", "list", parent))
        self.assertIn(leaf, self.ok("kv", "list", parent).stdout.split())

        # Soft delete, undelete, destroy.
        self.ok("kv", "delete", path)
        deleted = self.json("kv", "get", path)
        self.assertIsNone(deleted["data"]["data"])
        self.assertNotEqual(deleted["data"]["metadata"]["deletion_time"], "")
        p = self.fails(2, "kv", "get", "-field=extra", path)
        self.assertIn("No data found at", p.stderr)
        self.ok("kv", "undelete", "-versions=5", path)
        self.assertEqual(self.ok("kv", "get", "-field=extra", path).stdout, "y")
        self.fails(1, "kv", "undelete", path)  # -versions is required
        self.ok("kv", "delete", "-versions=1", path)
        self.assertIsNone(self.json("kv", "get", "-version=1", path)["data"]["data"])
        self.ok("kv", "destroy", "-versions=2", path)
        destroyed = self.json("kv", "get", "-version=2", path)
        self.assertIs(destroyed["data"]["metadata"]["destroyed"], True)

        # Metadata.
        self.ok("kv", "metadata", "put", "-max-versions=7", "-custom-metadata=owner=ops", path)
        meta = self.json("kv", "metadata", "get", path)["data"]
        self.assertEqual(meta["max_versions"], 7)
        self.assertEqual(meta["custom_metadata"], {"owner": "ops"})
        self.assertEqual(meta["current_version"], 5)
        self.assertIs(meta["versions"]["2"]["destroyed"], True)
        p = self.ok("kv", "metadata", "get", path)
        self.assertIn("Version 5", p.stdout)
        self.ok("kv", "metadata", "delete", path)
        p = self.fails(2, "kv", "get", path)
        self.assertIn("No value found at", p.stderr)
        self.fails(2, "kv", "metadata", "get", path)

    def test_kv_values_from_files_and_stdin(self):
        path = unique("secret/files")
        content = "line one\nline two = with equals\n"
        file_path = self.write_file(unique("value") + ".txt", content)
        secret = "p@ss word\nwith newline\n"
        self.ok("kv", "put", path, "fromfile=@" + file_path, "fromstdin=-", "plain=a=b",
                input=secret)
        data = self.json("kv", "get", path)["data"]["data"]
        self.assertEqual(data, {"fromfile": content, "fromstdin": secret, "plain": "a=b"})
        self.assertEqual(self.ok("kv", "get", "-field=fromstdin", path).stdout, secret)

        # A lone "-" reads a whole JSON object from stdin.
        self.ok("kv", "put", path, "-", input=json.dumps({"n": "1", "m": "2"}))
        self.assertEqual(self.json("kv", "get", path)["data"]["data"], {"n": "1", "m": "2"})

        # Usage errors: no data, two readers of stdin, missing file, no '='.
        self.fails(1, "kv", "put", path)
        self.fails(1, "kv", "put", path, "a=-", "b=-", input="x")
        self.fails(1, "kv", "put", path, "a=@" + os.path.join(self.tmp, "missing"))
        p = self.fails(1, "kv", "put", path, "novalue")
        self.assertIn("key=value", p.stderr)

    # ---- KV version 1 and secrets engines --------------------------------------------------

    def test_secrets_engines_and_kv_v1(self):
        mount = unique("kv1")
        p = self.ok("secrets", "enable", "-version=1", "-path=" + mount,
                    "-description=version one", "kv")
        self.assertIn("Success! Enabled the kv secrets engine at: %s/" % mount, p.stdout)
        mounts = self.json("secrets", "list")
        self.assertEqual(mounts[mount + "/"]["type"], "kv")
        self.assertEqual(mounts[mount + "/"]["options"], {"version": "1"})
        self.assertEqual(mounts["secret/"]["options"], {"version": "2"})
        listing = self.ok("secrets", "list").stdout
        self.assertRegex(listing, r"(?m)^%s/\s+kv\s+kv_\w+\s+version one$" % re.escape(mount))
        self.assertIn("Default TTL", self.ok("secrets", "list", "-detailed").stdout)
        self.fails(2, "secrets", "enable", "-path=" + mount, "kv")  # path in use

        self.ok("secrets", "tune", "-default-lease-ttl=1h", "-max-lease-ttl=2h",
                "-description=tuned", mount)
        tune = self.json("read", "sys/mounts/%s/tune" % mount)["data"]
        self.assertEqual((tune["default_lease_ttl"], tune["max_lease_ttl"]), (3600, 7200))
        self.assertEqual(tune["description"], "tuned")

        path = mount + "/app/config"
        p = self.ok("kv", "put", path, "x=1", "y=two")
        self.assertIn("Success! Data written to: " + path, p.stdout)
        got = self.json("kv", "get", path)
        self.assertEqual(got["data"], {"x": "1", "y": "two"})
        self.assertEqual(self.ok("kv", "get", "-field=y", path).stdout, "two")
        self.assertEqual(self.table(self.ok("kv", "get", path).stdout)["y"], "two")
        self.assertEqual(self.json("kv", "list", mount + "/app"), ["config"])
        self.assertEqual(self.ok("kv", "get", "-mount=" + mount, "-field=x", "app/config").stdout,
                         "1")
        # Version-2-only verbs are refused on a version 1 mount.
        self.fails(2, "kv", "patch", path, "x=2")
        self.fails(1, "kv", "undelete", "-versions=1", path)
        self.fails(1, "kv", "destroy", "-versions=1", path)
        self.fails(1, "kv", "metadata", "get", path)
        self.ok("kv", "delete", path)
        p = self.fails(2, "kv", "get", path)
        self.assertIn("No value found at " + path, p.stderr)

        p = self.ok("secrets", "disable", mount)
        self.assertIn("Disabled the secrets engine", p.stdout)
        self.assertNotIn(mount + "/", self.json("secrets", "list"))

    def test_secrets_move(self):
        src, dst = unique("mv-src"), unique("mv-dst")
        self.ok("secrets", "enable", "-version=1", "-path=" + src, "kv")
        self.ok("kv", "put", src + "/app/x", "k=moved")
        p = self.ok("secrets", "move", src + "/", dst + "/")
        # sys/remount answers with a migration id (Vault 1.10+), which the CLI shows.
        self.assertRegex(p.stdout, r"^Success! Started moving secrets engine %s/ to %s/, with "
                         r"migration ID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                         r"[0-9a-f]{12}\n$" % (re.escape(src), re.escape(dst)))
        self.assertEqual(self.ok("kv", "get", "-field=k", dst + "/app/x").stdout, "moved")
        self.assertEqual(self.json("kv", "get", dst + "/app/x")["data"], {"k": "moved"})
        mounts = self.json("secrets", "list")
        self.assertNotIn(src + "/", mounts)
        self.assertEqual(mounts[dst + "/"]["type"], "kv")
        self.assertEqual(mounts[dst + "/"]["options"], {"version": "1"})
        self.assertNotIn(src + "/", self.ok("secrets", "list").stdout)
        p = self.fails(2, "kv", "get", src + "/app/x")
        self.assertNotIn("moved", p.stdout)
        # Moving onto a path in use, or from one that is not mounted, is refused.
        self.fails(2, "secrets", "move", dst + "/", "secret/")
        self.fails(2, "secrets", "move", src + "/", unique("mv-other") + "/")
        self.fails(1, "secrets", "move", dst + "/")  # DESTINATION missing
        self.ok("secrets", "disable", dst)

    # ---- generic read / write / list / delete ----------------------------------------------

    def test_k91_generic_write_reads_a_value_from_stdin(self):
        mount = unique("kv1-stdin")
        self.ok("secrets", "enable", "-version=1", "-path=" + mount, "kv")
        self.addCleanup(self.cli, "secrets", "disable", mount)
        secret = "s3cr3t " + uuid.uuid4().hex
        p = self.ok("write", mount + "/x", "password=-", "user=app", input=secret)
        self.assertIn("Success! Data written to: %s/x" % mount, p.stdout)
        self.assertNotIn(secret, p.stdout + p.stderr)
        self.assertEqual(self.json("read", mount + "/x")["data"],
                         {"password": secret, "user": "app"})
        self.assertEqual(self.ok("read", "-field=password", mount + "/x").stdout, secret)

    def test_generic_read_write_list_delete(self):
        leaf = unique("gen")
        self.ok("write", "secret/data/" + leaf, "-", input=json.dumps({"data": {"k": "v"}}))
        read = self.json("read", "secret/data/" + leaf)
        self.assertEqual(read["data"]["data"], {"k": "v"})
        p = self.ok("read", "-field=data", "secret/data/" + leaf)
        self.assertEqual(p.stdout, "map[k:v]")
        self.assertIn(leaf, self.json("list", "secret/metadata"))
        self.assertIn(leaf, self.ok("list", "secret/metadata/").stdout.split())
        p = self.ok("delete", "secret/metadata/" + leaf)
        self.assertIn("Success! Data deleted (if it existed) at: secret/metadata/" + leaf, p.stdout)
        p = self.fails(2, "read", "secret/data/" + leaf)
        self.assertIn("No value found at secret/data/" + leaf, p.stderr)
        self.fails(1, "write", "secret/data/" + leaf)  # no data and no -force

    # ---- tokens ----------------------------------------------------------------------------

    def test_token_create_lookup_renew_revoke(self):
        created = self.json("token", "create", "-policy=default", "-ttl=1h", "-metadata=team=ci",
                            "-display-name=ci")
        auth = created["auth"]
        child, accessor = auth["client_token"], auth["accessor"]
        self.assertEqual(auth["policies"], ["default"])
        self.assertEqual(auth["metadata"], {"team": "ci"})
        self.assertLessEqual(auth["lease_duration"], 3600)

        rows = self.table(self.ok("token", "create", "-policy=default").stdout)
        self.assertTrue(rows["token"] and rows["token_accessor"])
        self.assertEqual(rows["token_policies"], '["default"]')
        field = self.ok("token", "create", "-field=token").stdout
        self.assertNotIn("\n", field)
        self.assertGreater(len(field), 10)

        data = self.json("token", "lookup", child)["data"]
        self.assertEqual(data["display_name"], "token-ci")
        self.assertEqual(data["meta"], {"team": "ci"})
        self.assertLessEqual(data["ttl"], 3600)
        self.assertEqual(self.json("token", "lookup", "-accessor", accessor)["data"]["accessor"],
                         accessor)
        self.assertEqual(self.json("token", "lookup", token=child)["data"]["id"], child)

        renewed = self.json("token", "renew", "-increment=30m", child)
        self.assertLessEqual(renewed["auth"]["lease_duration"], 1800)
        self.assertGreater(renewed["auth"]["lease_duration"], 0)
        self.ok("token", "renew", token=child)  # renew-self

        p = self.ok("token", "revoke", child)
        self.assertIn("Success! Revoked token", p.stdout)
        p = self.fails(2, "token", "lookup", child)
        self.assertNotIn(child, p.stdout + p.stderr)

        other = self.json("token", "create", "-policy=default")["auth"]
        self.ok("token", "revoke", "-accessor", other["accessor"])
        self.fails(2, "token", "lookup", other["client_token"])

        # -mode=orphan revokes the parent only; -self revokes the calling token. The parent
        # needs a policy that may create tokens: root.
        parent = self.json("token", "create", "-policy=root")["auth"]["client_token"]
        grandchild = self.json("token", "create", "-policy=default",
                               token=parent)["auth"]["client_token"]
        self.ok("token", "revoke", "-mode=orphan", parent)
        self.fails(2, "token", "lookup", parent)
        self.assertIs(self.json("token", "lookup", grandchild)["data"]["orphan"], True)
        self.ok("token", "revoke", "-self", token=grandchild)
        self.fails(2, "token", "lookup", grandchild)

        orphan = self.json("token", "create", "-orphan", "-policy=default")["auth"]
        self.assertIs(orphan["orphan"], True)

        # Token roles through the generic write, then create against the role.
        role = unique("role")
        self.ok("write", "auth/token/roles/" + role, "allowed_policies=default", "orphan=true")
        self.assertEqual(self.json("read", "auth/token/roles/" + role)["data"]["orphan"], True)
        from_role = self.json("token", "create", "-role=" + role)["auth"]
        self.assertIs(from_role["orphan"], True)

        self.fails(1, "token", "create", "-num-uses=many")
        self.fails(1, "token", "create", "-renewable=perhaps")
        self.fails(1, "token", "revoke")  # nothing to revoke
        self.fails(1, "token", "revoke", "-self", "sometoken")

    def test_k92_refused_kv_put_does_not_echo_the_secret(self):
        name = unique("cli-readonly")
        self.ok("policy", "write", name, "-",
                input='path "secret/data/*" { capabilities = ["read"] }\n'
                      'path "secret/metadata/*" { capabilities = ["read", "list"] }\n')
        read_only = self.ok("token", "create", "-policy=" + name, "-field=token").stdout
        path = unique("secret/k92")
        canary = "CANARY-" + uuid.uuid4().hex
        p = self.fails(2, "kv", "put", path, "pass=" + canary, token=read_only)
        self.assertIn("Code: 403", p.stderr)
        self.assertIn("permission denied", p.stderr)
        self.assertNotIn(canary, p.stdout + p.stderr)
        self.assertNotIn(read_only, p.stdout + p.stderr)
        # Nothing was written.
        p = self.fails(2, "kv", "get", path)
        self.assertIn("No value found at " + path.replace("secret/", "secret/data/"), p.stderr)

    # ---- exit codes ------------------------------------------------------------------------

    def test_exit_codes(self):
        bogus = "bogus-" + uuid.uuid4().hex
        p = self.fails(2, "kv", "get", "secret/whatever", token=bogus)
        self.assertIn("Code: 403", p.stderr)
        self.assertIn("permission denied", p.stderr)
        self.assertNotIn(bogus, p.stdout + p.stderr)
        p = self.fails(2, "read", "nomount/" + uuid.uuid4().hex)
        self.assertIn("No value found", p.stderr)
        p = self.fails(2, "write", "nomount/x", "a=b")
        self.assertRegex(p.stderr, r"Code: 404\. Errors:\n\n\* ")
        self.fails(2, "token", "lookup", token=bogus)

        p = self.fails(1, "kv", "get")
        self.assertIn("Not enough arguments (expected 1, got 0)", p.stderr)
        p = self.fails(1, "kv", "get", "a", "b")
        self.assertIn("Too many arguments", p.stderr)
        p = self.fails(1, "kv", "get", "-no-such-flag", "secret/x")
        self.assertIn("flag provided but not defined: -no-such-flag", p.stderr)
        self.fails(1, "status", "-format=yaml")
        self.fails(1, "no-such-command")
        self.fails(1, "kv", "no-such-subcommand")
        self.ok("kv", "get", "-h")

        # Nothing listening: a connection failure is an API error.
        p = self.fails(2, "operator", "key-status", address="https://127.0.0.1:1")
        self.assertIn("connection refused", p.stderr)
        self.fails(1, "status", address="https://127.0.0.1:1")  # status: 2 means sealed

    # ---- TLS -------------------------------------------------------------------------------

    def test_tls_verification(self):
        # No CA configured: the system store does not know the dev CA.
        p = self.fails(2, "operator", "key-status", ca=None)
        self.assertIn("certificate", p.stderr)
        self.assertNotIn("Key Term", p.stdout)

        p = self.ok("operator", "key-status", "-tls-skip-verify", ca=None)
        self.assertIn("Key Term", p.stdout)
        self.assertIn("WARNING", p.stderr)
        self.assertIn("-tls-skip-verify", p.stderr)

        # The right CA given as a flag, or as COFFER_CACERT over a wrong VAULT_CACERT.
        self.ok("operator", "key-status", "-ca-cert=" + self.server.ca, ca=None)
        certs = h.make_certs(os.path.join(self.tmp, unique("other-ca")), ca_name="some other CA")
        p = self.fails(2, "operator", "key-status", ca=certs["ca"])
        self.assertIn("certificate", p.stderr)
        self.ok("operator", "key-status", ca=certs["ca"],
                env={"COFFER_CACERT": self.server.ca})

        # The certificate is for 127.0.0.1 / localhost: another name does not match.
        p = self.fails(2, "operator", "key-status", "-tls-server-name=not-this-host.example")
        self.assertIn("certificate", p.stderr)
        self.ok("operator", "key-status", address=self.server.url.replace("127.0.0.1",
                                                                          "localhost"))
        self.fails(2, "operator", "key-status", ca=os.path.join(self.tmp, "missing-ca.pem"))

    # ---- policies --------------------------------------------------------------------------

    def require_policy_endpoints(self):
        p = self.cli("policy", "list")
        self.assertEqual(p.returncode, 0, "coffer policy list -> %d\nstderr:\n%s"
                         % (p.returncode, p.stderr))
        self.assertIn("default", p.stdout.split())
        self.assertIn("root", p.stdout.split())

    def test_policy_write_read_list_delete_and_capabilities(self):
        self.require_policy_endpoints()
        name = unique("cli-policy")
        text = 'path "secret/data/cli/*" {\n  capabilities = ["read", "list"]\n}\n'
        policy_file = self.write_file(name + ".hcl", text)
        p = self.ok("policy", "write", name, policy_file)
        self.assertIn("Success! Uploaded policy: " + name, p.stdout)
        self.assertEqual(self.ok("policy", "read", name).stdout.strip(), text.strip())
        self.assertIn(name, self.ok("policy", "list").stdout.split())
        self.assertIn(name, self.json("policy", "list"))

        stdin_name = unique("cli-stdin")
        self.ok("policy", "write", stdin_name, "-", input=text)
        self.assertEqual(self.json("policy", "read", stdin_name)["policy"].strip(), text.strip())
        self.fails(2, "policy", "write", unique("bad"), "-", input='path "x" { capabilities = 1 }')

        token = self.json("token", "create", "-policy=" + name)["auth"]["client_token"]
        p = self.ok("token", "capabilities", token, "secret/data/cli/app")
        self.assertEqual(p.stdout.strip(), "list, read")
        self.assertEqual(self.json("token", "capabilities", "secret/data/cli/app", token=token),
                         ["list", "read"])
        self.assertEqual(self.ok("token", "capabilities", "secret/data/cli/app").stdout.strip(),
                         "root")

        self.ok("policy", "delete", name)
        p = self.fails(2, "policy", "read", name)
        self.assertIn("No policy named: " + name, p.stderr)

    def test_policy_fmt_rewrites_locally(self):
        messy = ('path   "secret/data/a/*"   {capabilities=["read","list"]\n'
                 'max_wrapping_ttl="90s"}\n\n\n'
                 'path "sys/health" { capabilities = [ "read" ] }\n')
        path = self.write_file(unique("fmt") + ".hcl", messy)
        # No server needed: point at nothing.
        p = self.ok("policy", "fmt", path, address="https://127.0.0.1:1")
        self.assertIn("Success! Formatted policy", p.stdout)
        with open(path) as f:
            formatted = f.read()
        self.assertEqual(formatted,
                         'path "secret/data/a/*" {\n'
                         '  capabilities     = ["read", "list"]\n'
                         '  max_wrapping_ttl = "90s"\n'
                         '}\n'
                         '\n'
                         'path "sys/health" {\n'
                         '  capabilities = ["read"]\n'
                         '}\n')
        self.ok("policy", "fmt", path)  # idempotent
        with open(path) as f:
            self.assertEqual(f.read(), formatted)

        commented = '# keep me\npath "a" { capabilities = ["read"] }\n'
        path = self.write_file(unique("fmt") + ".hcl", commented)
        p = self.fails(1, "policy", "fmt", path)
        self.assertIn("comments", p.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), commented)
        path = self.write_file(unique("fmt") + ".hcl", 'path "a" { capabilities = ["fly"] }\n')
        self.fails(1, "policy", "fmt", path)


@h.require_binary
class OperatorLifecycleCliTest(CliCase):
    """init / unseal / status / rotate / seal on a fresh config-mode server."""

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-cli-op-")
        cls.addClassCleanup(tmp.cleanup)
        certs = h.make_certs(os.path.join(tmp.name, "certs"))
        config = h.write_config(os.path.join(tmp.name, "server.hcl"), storage="inmem",
                                certs=certs)
        cls.server = h.CofferServer.config(config, tmp.name, ca=certs["ca"])
        cls.addClassCleanup(cls.server.kill)
        cls.server.start()
        cls.home = cls.make_home()

    def test_init_unseal_rotate_seal(self):
        self.fails(2, "operator", "init", "-status", token=None)
        p = self.fails(2, "status", token=None)
        self.assertEqual(self.table(p.stdout)["Initialized"], "false")

        init = self.json("operator", "init", "-key-shares=3", "-key-threshold=2", token=None)
        self.assertEqual(len(init["unseal_keys_b64"]), 3)
        self.assertEqual(len(init["unseal_keys_hex"]), 3)
        self.assertEqual((init["unseal_shares"], init["unseal_threshold"]), (3, 2))
        root = init["root_token"]
        self.assertTrue(root)
        self.ok("operator", "init", "-status", token=None)
        p = self.fails(2, "operator", "init", token=None)
        self.assertIn("already initialized", p.stderr)

        p = self.fails(2, "status", token=None)
        rows = self.table(p.stdout)
        self.assertEqual(rows["Sealed"], "true")
        self.assertEqual(rows["Unseal Progress"], "0/2")

        # One share as an argument (vault allows it), one on stdin (what users should do).
        p = self.ok("operator", "unseal", init["unseal_keys_b64"][0], token=None)
        self.assertEqual(self.table(p.stdout)["Unseal Progress"], "1/2")
        p = self.ok("operator", "unseal", token=None, input=init["unseal_keys_hex"][1] + "\n")
        self.assertEqual(self.table(p.stdout)["Sealed"], "false")
        self.assertNotIn(init["unseal_keys_hex"][1], p.stdout + p.stderr)
        self.ok("status", token=None)

        self.ok("login", token=None, input=root)
        p = self.ok("operator", "rotate", token=None)
        self.assertIn("Success! Rotated key", p.stdout)
        self.assertEqual(self.table(p.stdout)["Key Term"], "2")
        self.assertEqual(self.json("operator", "key-status", token=None)["term"], 2)

        p = self.ok("operator", "seal", token=None)
        self.assertIn("Success! Vault is sealed.", p.stdout)
        p = self.fails(2, "status", token=None)
        self.assertEqual(self.table(p.stdout)["Sealed"], "true")
        status = json.loads(self.fails(2, "status", "-format=json", token=None).stdout)
        self.assertIs(status["sealed"], True)
        # Sealed: other commands fail as API errors.
        p = self.fails(2, "operator", "key-status", token=None)
        self.assertIn("Vault is sealed", p.stderr)
        self.assertNotIn(root, p.stdout + p.stderr)

        # Unseal again, the second key from a wrong-then-right sequence via -reset.
        self.ok("operator", "unseal", token=None, input=init["unseal_keys_b64"][2])
        p = self.ok("operator", "unseal", "-reset", token=None)
        self.assertEqual(self.table(p.stdout)["Unseal Progress"], "0/2")
        self.ok("operator", "unseal", token=None, input=init["unseal_keys_b64"][0])
        self.ok("operator", "unseal", token=None, input=init["unseal_keys_b64"][2])
        self.ok("status", token=None)


if __name__ == "__main__":
    unittest.main()
