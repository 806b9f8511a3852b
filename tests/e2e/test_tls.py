#!/usr/bin/python3
"""TLS policy of the listener, checked with real clients (openssl s_client, python ssl, curl):
protocol versions, cipher suites, plain HTTP on the TLS port, TLS being mandatory unless
explicitly disabled, client certificates, and certificate reload on SIGHUP."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import coffer_harness as h  # noqa: E402


def s_client(port, *args, ca=None, extra_input=b""):
    """Runs openssl s_client; returns (handshake_ok, output)."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-brief"]
    if ca:
        cmd += ["-CAfile", ca]
    cmd += list(args)
    p = subprocess.run(cmd, input=extra_input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20)
    output = (p.stdout + p.stderr).decode("utf-8", "replace")
    return p.returncode == 0 and "Protocol version:" in output, output


def negotiated(output):
    version = cipher = None
    for line in output.splitlines():
        if line.startswith("Protocol version:"):
            version = line.split(":", 1)[1].strip()
        elif line.startswith("Ciphersuite:"):
            cipher = line.split(":", 1)[1].strip()
    return version, cipher


@h.require_binary
class TlsTest(h.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls._certs_dir = tempfile.TemporaryDirectory(prefix="coffer-e2e-tls-")
        cls.ec = h.make_certs(os.path.join(cls._certs_dir.name, "ec"))
        cls.rsa = h.make_certs(os.path.join(cls._certs_dir.name, "rsa"), key_type="rsa")

    @classmethod
    def tearDownClass(cls):
        cls._certs_dir.cleanup()

    def start(self, certs, listener_extra=None, name="server.hcl"):
        config = h.write_config(os.path.join(self.tmp, name), storage="inmem", certs=certs,
                                listener_extra=listener_extra)
        server = self.track(h.CofferServer.config(config, self.tmp,
                                                  ca=certs["ca"] if certs else None))
        return server.start()

    # ---- versions and ciphers ---------------------------------------------------------

    def test_protocol_versions(self):
        server = self.start(self.ec)
        ok, out = s_client(server.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0",
                           ca=self.ec["ca"])
        self.assertFalse(ok, "TLS 1.1 handshake must fail:\n" + out)
        ok, out = s_client(server.port, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0",
                           ca=self.ec["ca"])
        self.assertFalse(ok, "TLS 1.0 handshake must fail:\n" + out)
        for flag, version in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            with self.subTest(version=version):
                ok, out = s_client(server.port, flag, ca=self.ec["ca"])
                self.assertTrue(ok, out)
                self.assertEqual(negotiated(out)[0], version, out)
                self.assertIn("Verification: OK", out)

    def test_tls12_allows_only_ecdhe_aead_suites(self):
        server = self.start(self.ec)
        for cipher in ("AES128-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                       "ECDHE-ECDSA-AES128-SHA256"):
            with self.subTest(cipher=cipher, refused=True):
                ok, out = s_client(server.port, "-tls1_2", "-cipher", cipher, ca=self.ec["ca"])
                self.assertFalse(ok, "%s must be refused:\n%s" % (cipher, out))
        for cipher in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"):
            with self.subTest(cipher=cipher, refused=False):
                ok, out = s_client(server.port, "-tls1_2", "-cipher", cipher, ca=self.ec["ca"])
                self.assertTrue(ok, out)
                self.assertEqual(negotiated(out), ("TLSv1.2", cipher), out)

    def test_tls12_with_rsa_certificate_refuses_static_rsa_and_cbc(self):
        # With an RSA key the static-RSA suites become possible for the server at all, so this
        # is where refusing them is meaningful.
        server = self.start(self.rsa)
        for cipher in ("AES128-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
                       "ECDHE-RSA-AES128-SHA", "DHE-RSA-AES128-SHA"):
            with self.subTest(cipher=cipher, refused=True):
                ok, out = s_client(server.port, "-tls1_2", "-cipher", cipher, ca=self.rsa["ca"])
                self.assertFalse(ok, "%s must be refused:\n%s" % (cipher, out))
        ok, out = s_client(server.port, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256",
                           ca=self.rsa["ca"])
        self.assertTrue(ok, out)
        self.assertEqual(negotiated(out), ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"), out)

    def test_tls_min_version_tls13(self):
        server = self.start(self.ec, {"tls_min_version": "tls13"})
        ok, out = s_client(server.port, "-tls1_2", ca=self.ec["ca"])
        self.assertFalse(ok, "TLS 1.2 must fail with tls_min_version = tls13:\n" + out)
        ok, out = s_client(server.port, "-tls1_3", ca=self.ec["ca"])
        self.assertTrue(ok, out)

    # ---- plain HTTP --------------------------------------------------------------------

    def test_plain_http_to_tls_port_gets_no_api_data(self):
        server = self.start(self.ec)
        received = b""
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            deadline = time.monotonic() + 5
            try:
                while time.monotonic() < deadline:
                    data = sock.recv(65536)
                    if not data:
                        break
                    received += data
            except (socket.timeout, ConnectionResetError):
                pass
        self.assertNotIn(b'"initialized"', received)
        self.assertNotIn(b"sealed", received)

        if shutil.which("curl"):
            p = subprocess.run(["curl", "-s", "-m", "5", "http://127.0.0.1:%d/v1/sys/health"
                                % server.port], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20)
            self.assertNotIn(b'"initialized"', p.stdout)
        # The TLS port still works afterwards.
        self.assertEqual(server.request("GET", "sys/health").status_code, 501)

    def test_listener_without_tls_files_refuses_to_start(self):
        config = h.write_config(os.path.join(self.tmp, "notls.hcl"), storage="inmem", certs=None)
        p = h.run_binary(["server", "-config=" + config])
        stderr = p.stderr.decode("utf-8", "replace")
        self.assertNotEqual(p.returncode, 0, stderr)
        self.assertIn("tls_cert_file", stderr)
        self.assertNotIn("listening on", stderr)

        # Only the cert file given: still refused, naming the missing key file.
        config = os.path.join(self.tmp, "half.hcl")
        h.write_config(config, storage="inmem", certs=None,
                       listener_extra={"tls_cert_file": self.ec["cert"]})
        p = h.run_binary(["server", "-config=" + config])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("tls_key_file", p.stderr.decode("utf-8", "replace"))

        # tls_disable = false is the same as not saying anything.
        h.write_config(config, storage="inmem", certs=None, listener_extra={"tls_disable": False})
        p = h.run_binary(["server", "-config=" + config])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("tls_cert_file", p.stderr.decode("utf-8", "replace"))

    def test_tls_disable_serves_plain_http(self):
        server = self.start(None, {"tls_disable": True})
        self.assertFalse(server.tls)
        self.assertIn("(plain HTTP)", server.stderr())
        r = requests.get("http://127.0.0.1:%d/v1/sys/health" % server.port, timeout=10)
        self.assertEqual(r.status_code, 501, r.text)
        self.assertIs(r.json()["initialized"], False)
        # And it really is not TLS.
        with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
            h.peer_cert_der(server.port, timeout=5)

    # ---- client certificates -----------------------------------------------------------

    def test_required_client_certificate(self):
        server = self.start(self.ec, {"tls_client_ca_file": self.ec["ca"],
                                      "tls_require_and_verify_client_cert": True})
        cert, key = h.make_client_cert(self.ec, name="client-%d" % os.getpid())
        r = requests.get(server.url + "/v1/sys/health", verify=self.ec["ca"], cert=(cert, key),
                         timeout=10)
        self.assertEqual(r.status_code, 501, r.text)
        with self.assertRaises(requests.exceptions.RequestException):
            requests.get(server.url + "/v1/sys/health", verify=self.ec["ca"], timeout=10)
        # A certificate from another CA is refused too.
        other = h.make_certs(os.path.join(self.tmp, "other-ca"), ca_name="someone else")
        other_cert, other_key = h.make_client_cert(other, name="intruder")
        with self.assertRaises(requests.exceptions.RequestException):
            requests.get(server.url + "/v1/sys/health", verify=self.ec["ca"],
                         cert=(other_cert, other_key), timeout=10)

    # ---- reload ------------------------------------------------------------------------

    def test_sighup_reloads_certificates(self):
        live = h.make_certs(os.path.join(self.tmp, "live"), ca_name="first CA")
        server = self.start(live)
        first = h.cert_der(live["cert"])
        self.assertEqual(h.peer_cert_der(server.port), first)

        # An open keep-alive session made with the old certificate.
        session = requests.Session()
        self.assertEqual(session.get(server.url + "/v1/sys/health", verify=live["ca"],
                                     timeout=10).status_code, 501)

        fresh = h.make_certs(os.path.join(self.tmp, "fresh"), ca_name="second CA")
        second = h.cert_der(fresh["cert"])
        self.assertNotEqual(first, second)
        old_ca = os.path.join(self.tmp, "first-ca.pem")
        shutil.copy(live["ca"], old_ca)
        # Replace the files the config points at (atomic renames, as a deploy tool would).
        for key in ("cert", "key"):
            tmp_copy = live[key] + ".new"
            shutil.copy(fresh[key], tmp_copy)
            os.replace(tmp_copy, live[key])

        # Without SIGHUP nothing changes.
        self.assertEqual(h.peer_cert_der(server.port), first)

        log_mark = len(server.stderr())
        server.signal(signal.SIGHUP)
        self.assertTrue(server.wait_for_log("certificates reloaded", after=log_mark),
                        server.stderr())
        self.assertTrue(server.running(), "SIGHUP must not stop the server")
        self.assertEqual(h.peer_cert_der(server.port), second)
        r = requests.get(server.url + "/v1/sys/health", verify=fresh["ca"], timeout=10)
        self.assertEqual(r.status_code, 501)
        with self.assertRaises(requests.exceptions.SSLError):
            requests.get(server.url + "/v1/sys/health", verify=old_ca, timeout=10)
        session.close()

        # A broken replacement is refused on reload; the server keeps the working certificate.
        with open(live["cert"], "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        log_mark = len(server.stderr())
        server.signal(signal.SIGHUP)
        self.assertTrue(server.wait_for_log("reload failed", after=log_mark), server.stderr())
        self.assertTrue(server.running(), "a bad certificate on SIGHUP must not stop the server")
        self.assertEqual(h.peer_cert_der(server.port), second)
        r = requests.get(server.url + "/v1/sys/health", verify=fresh["ca"], timeout=10)
        self.assertEqual(r.status_code, 501)
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
