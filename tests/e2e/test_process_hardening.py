#!/usr/bin/python3
"""Process hardening of a running server: no core dumps, and key material in locked memory
(SECURITY.md §6 C33)."""

import os
import re
import resource
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coffer_harness as h  # noqa: E402


def proc_field(pid, name, field):
    with open("/proc/%d/%s" % (pid, name)) as f:
        for line in f:
            if line.startswith(field):
                return line
    raise AssertionError("%s not found in /proc/%d/%s" % (field, pid, name))


def locked_kib(pid):
    return int(re.search(r"(\d+)\s*kB", proc_field(pid, "status", "VmLck:")).group(1))


@h.require_binary
class ProcessHardeningTest(unittest.TestCase):
    def test_core_dumps_are_off_and_keys_are_locked_after_unseal(self):
        with tempfile.TemporaryDirectory(prefix="coffer-e2e-hardening-") as tmp:
            certs = h.make_certs(os.path.join(tmp, "certs"))
            config = h.write_config(os.path.join(tmp, "server.hcl"),
                                    data_dir=os.path.join(tmp, "data"), certs=certs)
            server = h.CofferServer.config(config, tmp, ca=certs["ca"])
            # Start it with core dumps allowed, so that only the server itself can turn them off.
            soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
            try:
                resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
            except (ValueError, OSError):
                pass
            self.assertNotEqual(resource.getrlimit(resource.RLIMIT_CORE)[0], 0,
                                "the test needs a non-zero core limit to start the server with")
            try:
                server.start()
                pid = server.proc.pid
                limit = proc_field(pid, "limits", "Max core file size").split()
                self.assertEqual(limit[4:6], ["0", "0"], "core dumps must be disabled")
                h.init_and_unseal(server, shares=3, threshold=2)
                # The root key, keyring and token salt live in libsodium's mlocked pages.
                # AddressSanitizer turns mlock() into a no-op, so only a plain build can
                # show locked pages.
                if os.environ.get("COFFER_SANITIZED") != "1":
                    self.assertGreater(locked_kib(pid), 0, "no locked memory after unseal")
            finally:
                server.kill()
                resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))


if __name__ == "__main__":
    unittest.main(verbosity=2)
