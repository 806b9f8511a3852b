#!/usr/bin/python3
"""Init / unseal / seal / rotate / restart lifecycle of a config-mode server on rocksdb, driven
mostly through hvac 0.11.2 (the client the project must stay compatible with)."""

import os
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hvac  # noqa: E402
import hvac.exceptions  # noqa: E402
import requests  # noqa: E402

import coffer_harness as h  # noqa: E402


def random_share_hex(used_x):
    """A random 33-byte "share" whose x-coordinate (last byte) is non-zero and unused, so the
    server's combine step cannot fail for a reason other than the shares being wrong."""
    while True:
        share = bytearray(os.urandom(33))
        if share[-1] != 0 and share[-1] not in used_x:
            used_x.add(share[-1])
            return share.hex()


@h.require_binary
class SealLifecycleTest(h.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls._certs_dir = tempfile.TemporaryDirectory(prefix="coffer-e2e-certs-")
        cls.certs = h.make_certs(cls._certs_dir.name)

    @classmethod
    def tearDownClass(cls):
        cls._certs_dir.cleanup()

    def setUp(self):
        super().setUp()
        self.data_dir = os.path.join(self.tmp, "data")
        self.config = h.write_config(os.path.join(self.tmp, "server.hcl"),
                                     data_dir=self.data_dir, certs=self.certs)
        self.server = self.track(h.CofferServer.config(self.config, self.tmp, ca=self.certs["ca"]))
        self.server.start()
        self.client = self.server.hvac()

    def health(self, method="GET", **params):
        return self.server.request(method, "sys/health", params=params)

    def assert_sealed_error(self, response):
        self.assertEqual(response.status_code, 503, response.text)
        self.assertEqual(response.json(), {"errors": ["Vault is sealed"]})

    # ----------------------------------------------------------------------------------------

    def test_fresh_server_is_uninitialised_and_sealed(self):
        self.assertFalse(self.client.sys.is_initialized())
        self.assertEqual(self.client.sys.read_init_status(), {"initialized": False})

        r = self.health()
        self.assertEqual(r.status_code, 501, r.text)
        body = r.json()
        self.assertIs(body["initialized"], False)
        self.assertIs(body["sealed"], True)
        self.assertEqual(self.health(uninitcode=218).status_code, 218)
        self.assertEqual(self.health("HEAD").status_code, 501)

        status = self.client.sys.read_seal_status()
        self.assertIs(status["initialized"], False)
        self.assertIs(status["sealed"], True)
        self.assertEqual((status["t"], status["n"], status["progress"]), (0, 0, 0))
        self.assertEqual(status["type"], "shamir")

        # Everything beyond the unauthenticated sys endpoints is sealed off.
        self.assert_sealed_error(self.server.request("GET", "random/" + uuid.uuid4().hex))
        self.assert_sealed_error(self.server.request("GET", "sys/key-status", token="whatever"))
        with self.assertRaises(hvac.exceptions.VaultDown):
            self.client.read("secret/" + uuid.uuid4().hex)

        # Unseal before init is a client error.
        r = self.server.request("PUT", "sys/unseal", json={"key": "00" * 33})
        self.assertEqual(r.status_code, 400, r.text)

    def test_init_rejects_invalid_share_parameters(self):
        bad = [
            (3, 5),  # threshold larger than shares
            (256, 3),  # more than 255 shares
            (5, 1),  # threshold 1 with several shares
            (0, 0),  # no shares
        ]
        for shares, threshold in bad:
            with self.subTest(shares=shares, threshold=threshold):
                with self.assertRaises(hvac.exceptions.InvalidRequest):
                    self.client.sys.initialize(secret_shares=shares, secret_threshold=threshold)
        self.assertFalse(self.client.sys.is_initialized())
        # The boundary values themselves are fine: 255 shares is the maximum.
        result = self.client.sys.initialize(secret_shares=255, secret_threshold=2)
        self.assertEqual(len(result["keys"]), 255)
        self.assertTrue(self.client.sys.is_initialized())

    def test_full_lifecycle_across_restart(self):
        client = self.client
        init = client.sys.initialize(secret_shares=5, secret_threshold=3)
        keys, keys_b64, root = init["keys"], init["keys_base64"], init["root_token"]
        self.assertEqual(len(keys), 5)
        self.assertEqual(len(keys_b64), 5)
        self.assertEqual([h.b64_to_hex(k) for k in keys_b64], keys)
        self.assertEqual(len(set(keys)), 5)
        self.assertTrue(root)

        # Initialised, still sealed (shamir seal does not auto-unseal).
        self.assertTrue(client.sys.is_initialized())
        self.assertTrue(client.sys.is_sealed())
        status = client.sys.read_seal_status()
        self.assertEqual((status["t"], status["n"], status["progress"]), (3, 5, 0))
        self.assertEqual(self.health().status_code, 503)
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            client.sys.initialize(secret_shares=1, secret_threshold=1)

        # Two shares: progress 2, still sealed; repeating a share does not count twice.
        client.sys.submit_unseal_key(keys[0])
        status = client.sys.submit_unseal_key(keys[1])
        self.assertEqual(status["progress"], 2)
        self.assertIs(status["sealed"], True)
        status = client.sys.submit_unseal_key(keys[1])
        self.assertEqual(status["progress"], 2, "a repeated share must not advance progress")
        self.assertIs(status["sealed"], True)
        status = client.sys.submit_unseal_key(keys[2])
        self.assertIs(status["sealed"], False)
        self.assertEqual(status["progress"], 0)
        self.assertFalse(client.sys.is_sealed())
        self.assertEqual(self.health().status_code, 200)
        self.assertEqual(self.health("HEAD").status_code, 200)
        self.assertEqual(self.health("HEAD", activecode=299).status_code, 299)

        # Reset while unsealed is refused; submitting a key while unsealed just reports status.
        r = self.server.request("PUT", "sys/unseal", json={"reset": True})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.server.request("PUT", "sys/unseal", json={"key": keys[4]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIs(r.json()["sealed"], False)

        # Sealing needs a (root) token.
        with self.assertRaises(hvac.exceptions.Forbidden):
            self.server.hvac().sys.seal()
        with self.assertRaises(hvac.exceptions.Forbidden):
            self.server.hvac(token="hvs." + "x" * 24).sys.seal()
        r = self.server.request("PUT", "sys/seal")
        self.assertEqual(r.status_code, 403, r.text)
        self.assertFalse(client.sys.is_sealed())

        rooted = self.server.hvac(token=root)
        rooted.sys.seal()
        self.assertTrue(client.sys.is_sealed())
        self.assertEqual(self.health().status_code, 503)
        self.assertEqual(self.health("HEAD").status_code, 503)
        self.assertEqual(self.health(sealedcode=299).status_code, 299)
        self.assertEqual(self.health("HEAD", sealedcode=299).status_code, 299)
        r = self.health(sealedcode="abc")
        self.assertEqual(r.status_code, 400, r.text)
        self.assert_sealed_error(self.server.request("GET", "sys/key-status", token=root))

        # Unseal with base64 forms, a different subset of shares.
        status = client.sys.submit_unseal_keys([keys_b64[4], keys_b64[2], keys_b64[0]])
        self.assertIs(status["sealed"], False)

        # Keyring rotation: term 1 -> 2.
        self.assertEqual(rooted.sys.get_encryption_key_status()["data"]["term"], 1)
        with self.assertRaises(hvac.exceptions.Forbidden):
            client.sys.rotate_encryption_key()
        rooted.sys.rotate_encryption_key()
        key_status = rooted.sys.get_encryption_key_status()
        self.assertEqual(key_status["data"]["term"], 2)
        self.assertEqual(key_status["term"], 2, "sys/key-status copies data to the top level")

        # Graceful stop, restart on the same data: initialised, sealed, state preserved.
        self.assertEqual(self.server.stop(), 0, self.server.stderr())
        self.server.start()
        client = self.server.hvac()
        self.assertTrue(client.sys.is_initialized())
        self.assertTrue(client.sys.is_sealed())
        self.assertEqual(self.health("HEAD").status_code, 503)
        status = client.sys.read_seal_status()
        self.assertEqual((status["t"], status["n"], status["progress"]), (3, 5, 0))

        # Wrong shares: progress counts up, then the threshold attempt fails with 400 and resets.
        used_x = set()
        wrong = [random_share_hex(used_x) for _ in range(3)]
        self.assertEqual(client.sys.submit_unseal_key(wrong[0])["progress"], 1)
        self.assertEqual(client.sys.submit_unseal_key(wrong[1])["progress"], 2)
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            client.sys.submit_unseal_key(wrong[2])
        status = client.sys.read_seal_status()
        self.assertEqual(status["progress"], 0)
        self.assertIs(status["sealed"], True)

        # One wrong share mixed into otherwise valid ones also fails and resets.
        client.sys.submit_unseal_key(keys[0])
        client.sys.submit_unseal_key(keys[1])
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            client.sys.submit_unseal_key(random_share_hex(set()))
        self.assertEqual(client.sys.read_seal_status()["progress"], 0)
        self.assertTrue(client.sys.is_sealed())

        # Reset clears partial progress.
        self.assertEqual(client.sys.submit_unseal_key(keys[3])["progress"], 1)
        status = client.sys.submit_unseal_key(reset=True)
        self.assertEqual(status["progress"], 0)
        self.assertIs(status["sealed"], True)

        # Neither key nor reset, or a key that is neither hex nor base64 -> 400.
        r = self.server.request("PUT", "sys/unseal", json={})
        self.assertEqual(r.status_code, 400, r.text)
        r = self.server.request("PUT", "sys/unseal", json={"key": "not a key!"})
        self.assertEqual(r.status_code, 400, r.text)

        # The real keys (hex, yet another subset) still work, and the rotated keyring survived.
        status = client.sys.submit_unseal_keys([keys[1], keys[3], keys[4]])
        self.assertIs(status["sealed"], False)
        rooted = self.server.hvac(token=root)
        self.assertEqual(rooted.sys.get_encryption_key_status()["data"]["term"], 2)
        self.assertEqual(self.health().status_code, 200)

        self.assertEqual(self.server.stop(), 0, self.server.stderr())

    def test_unknown_method_and_path(self):
        init = h.init_and_unseal(self.server, shares=1, threshold=1)
        root = init["root_token"]
        r = requests.request("BREW", self.server.url + "/v1/sys/health",
                             verify=self.server.ca, timeout=h.HTTP_TIMEOUT)
        self.assertEqual(r.status_code, 405, r.text)
        self.assertIn("errors", r.json())
        r = self.server.request("BREW", "sys/seal", token=root)
        self.assertEqual(r.status_code, 405, r.text)
        self.assertFalse(self.client.sys.is_sealed())

        r = self.server.request("GET", "nope/" + uuid.uuid4().hex, token=root)
        self.assertEqual(r.status_code, 404, r.text)
        r = self.server.request("GET", "sys/nope", token=root)
        self.assertEqual(r.status_code, 404, r.text)
        r = self.server.request("GET", "sys/key-status", token="hvs.bogus")
        self.assertEqual(r.status_code, 403, r.text)
        r = self.server.request("GET", "sys/key-status")
        self.assertEqual(r.status_code, 403, r.text)

        leader = self.server.request("GET", "sys/leader")
        self.assertEqual(leader.status_code, 200, leader.text)
        self.assertIs(leader.json()["ha_enabled"], False)


if __name__ == "__main__":
    unittest.main(verbosity=2)
