#!/usr/bin/python3
"""The server refuses bad configuration files: exit code 1, nothing listening, and an
`Error: FILE:LINE: ...` message on stderr that names the offending key."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coffer_harness as h  # noqa: E402

GOOD_LISTENER = """listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}"""


def config_with(*parts):
    return "\n".join(parts) + "\n"


def line_of(text, needle):
    """1-based line number of the first line containing needle."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError("%r not in config" % needle)


@h.require_binary
class ConfigErrorsTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-config-")
        self.tmp = self._tmp.name
        self.counter = 0

    def tearDown(self):
        self._tmp.cleanup()

    def run_config(self, text, suffix=".hcl"):
        self.counter += 1
        path = os.path.join(self.tmp, "bad%d%s" % (self.counter, suffix))
        with open(path, "w") as f:
            f.write(text)
        p = h.run_binary(["server", "-config=" + path], timeout=15)
        return path, p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")

    def assert_refused(self, text, key, needle=None, suffix=".hcl"):
        """Refused with exit 1 and `Error: PATH:LINE:` naming key; LINE = line of needle."""
        path, code, out, err = self.run_config(text, suffix)
        self.assertEqual(code, 1, "stdout:\n%s\nstderr:\n%s" % (out, err))
        self.assertNotIn("listening on", err)
        line = line_of(text, needle or key)
        self.assertIn("Error: %s:%d:" % (path, line), err)
        self.assertIn(key, err)
        return err

    def test_unknown_top_level_key(self):
        text = config_with('storage "inmem" {}', GOOD_LISTENER, 'log_level = "info"',
                           "bogus_setting = true")
        self.assert_refused(text, "bogus_setting")

    def test_unknown_listener_key(self):
        text = config_with('storage "inmem" {}', 'listener "tcp" {',
                           '  address     = "127.0.0.1:0"', "  tls_disable = true",
                           '  tls_cipher_suitez = "x"', "}")
        self.assert_refused(text, "tls_cipher_suitez")

    def test_unknown_storage_key_and_type(self):
        data = os.path.join(self.tmp, "data")
        text = config_with('storage "rocksdb" {', '  path = "%s"' % data, "  sync_mode = 3", "}",
                           GOOD_LISTENER)
        self.assert_refused(text, "sync_mode")
        text = config_with('storage "consul" {}', GOOD_LISTENER)
        self.assert_refused(text, "consul")
        text = config_with('storage "rocksdb" {}', GOOD_LISTENER)
        self.assert_refused(text, "path", needle='storage "rocksdb"')

    def test_bad_value_types(self):
        cases = [
            ("max_request_size", '  max_request_size = "big"'),
            ("max_request_size", "  max_request_size = -5"),
            ("max_json_depth", "  max_json_depth = 0"),
            ("max_json_strings", "  max_json_strings = 1.5"),
            ("tls_disable", '  tls_disable = "maybe"'),
            ("http_idle_timeout", '  http_idle_timeout = "forever"'),
            ("http_read_timeout", "  http_read_timeout = [1, 2]"),
            ("tls_min_version", '  tls_min_version = "tls11"'),
            ("tls_min_version", '  tls_min_version = "ssl3"'),
            ("address", "  address = 8200"),
        ]
        for key, line in cases:
            with self.subTest(line=line):
                body = ['  address = "127.0.0.1:0"', "  tls_disable = true"]
                body = [b for b in body if not b.strip().startswith(key)] + [line]
                text = config_with('storage "inmem" {}', 'listener "tcp" {', *body, "}")
                self.assert_refused(text, key, needle=line.strip())
        top = [("log_level", 'log_level = "loud"'), ("log_level", "log_level = 3"),
               ("default_lease_ttl", 'default_lease_ttl = "soon"'),
               ("disable_mlock", 'disable_mlock = "perhaps"')]
        for key, line in top:
            with self.subTest(line=line):
                text = config_with('storage "inmem" {}', GOOD_LISTENER, line)
                self.assert_refused(text, key, needle=line)

    def test_duplicate_key(self):
        text = config_with('storage "inmem" {}', GOOD_LISTENER, 'log_level = "info"',
                           'log_level = "debug"')
        self.assert_refused(text, "log_level", needle='"debug"')

    def test_missing_storage(self):
        text = config_with(GOOD_LISTENER, 'log_level = "info"')
        path, code, out, err = self.run_config(text)
        self.assertEqual(code, 1, err)
        self.assertIn("Error: %s" % path, err)
        self.assertIn("storage", err)
        self.assertNotIn("listening on", err)

    def test_missing_listener(self):
        path, code, out, err = self.run_config(config_with('storage "inmem" {}'))
        self.assertEqual(code, 1, err)
        self.assertIn("Error: %s" % path, err)
        self.assertIn("listener", err)

    def test_syntax_errors(self):
        text = config_with('storage "inmem" {}', 'listener "tcp" {', '  address = "127.0.0.1:0"',
                           "  tls_disable = true", "")
        path, code, out, err = self.run_config(text)
        self.assertEqual(code, 1, err)
        self.assertRegex(err, r"Error: %s:\d+:" % path.replace(".", r"\."))
        text = config_with('storage "inmem" {}', GOOD_LISTENER, 'log_level = "info')
        self.assert_refused(text, "", needle='log_level = "info')

    def test_json_config_errors_name_the_line(self):
        text = json.dumps({"storage": {"inmem": {}},
                           "listener": {"tcp": {"address": "127.0.0.1:0", "tls_disable": True}},
                           "bogus_json_key": 1}, indent=2)
        self.assert_refused(text, "bogus_json_key", suffix=".json")

    def test_missing_file_and_missing_flag(self):
        missing = os.path.join(self.tmp, "does-not-exist.hcl")
        p = h.run_binary(["server", "-config=" + missing], timeout=15)
        self.assertEqual(p.returncode, 1)
        self.assertIn(missing, p.stderr.decode())
        p = h.run_binary(["server"], timeout=15)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("-config", p.stderr.decode())

    def test_a_good_config_does_start(self):
        # Control: the same skeleton without the mistake is accepted, so the refusals above are
        # about the mistakes.
        path = os.path.join(self.tmp, "good.hcl")
        with open(path, "w") as f:
            f.write(config_with('storage "inmem" {}', GOOD_LISTENER, 'log_level = "info"'))
        with h.CofferServer.config(path, self.tmp) as server:
            r = server.request("GET", "sys/health")
            self.assertEqual(r.status_code, 501)
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
