#!/usr/bin/python3
"""HTTP-layer limits and hygiene of a config-mode server: body size (413), header size (431),
JSON complexity, malformed JSON, path traversal, list handling, and the headers every response
must carry."""

import json
import os
import ssl
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coffer_harness as h  # noqa: E402

MAX_REQUEST_SIZE = 1048576
TWO_MIB = 2 * 1024 * 1024
COMPLEXITY = "refused JSON input due to high complexity"


def http_request(method, target, headers=(), body=b"", content_length=True):
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1"]
    lines.extend(headers)
    if content_length:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(data, size=65536):
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def split_raw_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().decode().lower()] = value.strip().decode()
    return h.parse_status(raw), headers, body


@h.require_binary
class HttpLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-limits-")
        tmp = cls._tmp.name
        cls.certs = h.make_certs(os.path.join(tmp, "certs"))
        config = h.write_config(os.path.join(tmp, "server.hcl"), storage="inmem",
                                certs=cls.certs,
                                listener_extra={"max_request_size": MAX_REQUEST_SIZE})
        cls.server = h.CofferServer.config(config, tmp, ca=cls.certs["ca"])
        try:
            cls.server.start()
            cls.root = h.init_and_unseal(cls.server)["root_token"]
        except BaseException:
            cls.server.kill()
            cls._tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        cls._tmp.cleanup()

    def assert_still_serving(self):
        r = self.server.request("GET", "sys/health")
        self.assertEqual(r.status_code, 200, "server stopped serving: %s" % r.text)

    def assert_api_headers(self, headers, what):
        headers = {k.lower(): v for k, v in headers.items()}
        self.assertEqual(headers.get("content-type"), "application/json", what)
        self.assertEqual(headers.get("cache-control"), "no-store", what)

    def rotate_with(self, body):
        """PUT sys/rotate (accepts and ignores unknown fields) with a raw body."""
        return self.server.request("PUT", "sys/rotate", token=self.root, data=body,
                                   headers={"Content-Type": "application/json"})

    # ---- body size ----------------------------------------------------------------------

    def test_oversized_body_with_content_length_gets_413(self):
        body = b'{"junk":"' + b"x" * TWO_MIB + b'"}'
        head = http_request("PUT", "/v1/sys/rotate", ["X-Vault-Token: " + self.root,
                                                       "Content-Type: application/json"], body)
        raw = h.raw_exchange(self.server, [head] + h.split_chunks(body))
        status, headers, payload = split_raw_response(raw)
        self.assertEqual(status, 413, raw[:300])
        self.assert_api_headers(headers, "413 response")
        errors = json.loads(payload)["errors"]
        self.assertTrue(any("request body too large" in e for e in errors), errors)
        self.assert_still_serving()

    def test_oversized_chunked_body_gets_413(self):
        body = b'{"junk":"' + b"x" * TWO_MIB + b'"}'
        head = http_request("PUT", "/v1/sys/rotate", ["X-Vault-Token: " + self.root,
                                                       "Content-Type: application/json",
                                                       "Transfer-Encoding: chunked"],
                            content_length=False)
        raw = h.raw_exchange(self.server, [head] + list(chunked(body)))
        status, headers, payload = split_raw_response(raw)
        self.assertEqual(status, 413, raw[:300])
        self.assert_api_headers(headers, "413 response (chunked)")
        errors = json.loads(payload)["errors"]
        self.assertTrue(any("request body too large" in e for e in errors), errors)
        self.assert_still_serving()

    def test_a_real_client_sending_an_oversized_body_reads_the_413(self):
        # requests (what hvac uses) sends the whole body before reading: the server
        # must not reset the connection before the client sees the answer.
        body = b'{"junk":"' + b"x" * TWO_MIB + b'"}'
        for attempt in range(3):
            r = self.rotate_with(body)
            self.assertEqual(r.status_code, 413, "attempt %d: %s" % (attempt, r.text[:200]))
            self.assertIn("request body too large", " ".join(r.json()["errors"]))
        self.assert_still_serving()

    def test_body_at_the_limit_is_accepted(self):
        # Just under max_request_size: accepted (unknown fields are ignored by sys/rotate).
        filler = MAX_REQUEST_SIZE - 64
        r = self.rotate_with(b'{"junk":"' + b"x" * filler + b'"}')
        self.assertIn(r.status_code, (200, 204), r.text)

    def test_ambiguous_body_framing_is_400(self):
        # Content-Length together with Transfer-Encoding, or two different lengths, are the
        # classic request-smuggling ingredients: refuse rather than guess.
        token = "X-Vault-Token: " + self.root
        cases = {
            "CL + TE": http_request("PUT", "/v1/sys/rotate",
                                    [token, "Content-Length: 4",
                                     "Transfer-Encoding: chunked"], content_length=False)
            + b"0\r\n\r\n",
            "two CL": http_request("PUT", "/v1/sys/rotate",
                                   [token, "Content-Length: 2", "Content-Length: 3"],
                                   content_length=False) + b"{}",
            "bad chunk size": http_request("PUT", "/v1/sys/rotate",
                                           [token, "Transfer-Encoding: chunked"],
                                           content_length=False) + b"zz\r\n{}\r\n0\r\n\r\n",
        }
        for label, payload in cases.items():
            with self.subTest(case=label):
                raw = h.raw_exchange(self.server, [payload])
                self.assertEqual(h.parse_status(raw), 400, raw[:300])
        self.assert_still_serving()

    def test_slow_clients_are_cut_off(self):
        # A client that never finishes its headers (slowloris) or its body must not hold a
        # connection beyond the configured timeouts.
        with tempfile.TemporaryDirectory(prefix="coffer-e2e-slow-") as tmp:
            config = h.write_config(os.path.join(tmp, "server.hcl"), storage="inmem",
                                    certs=self.certs,
                                    listener_extra={"http_read_header_timeout": "1s",
                                                    "http_read_timeout": "1s",
                                                    "http_idle_timeout": "1s"})
            with h.CofferServer.config(config, tmp, ca=self.certs["ca"]) as server:
                partial = {
                    "headers": b"GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\r\n",
                    "body": b"PUT /v1/sys/unseal HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Content-Length: 100\r\n\r\n{\"key\":",
                    "nothing (idle)": b"",
                }
                for label, payload in partial.items():
                    with self.subTest(stalled_in=label):
                        sock = h.open_socket(server, timeout=8)
                        try:
                            if payload:
                                sock.sendall(payload)
                            started = time.monotonic()
                            try:
                                data = sock.recv(4096)
                            except (ConnectionResetError, ssl.SSLError, OSError):
                                data = b""
                            elapsed = time.monotonic() - started
                        finally:
                            sock.close()
                        self.assertNotIn(b'"initialized"', data)
                        self.assertLess(elapsed, 5.0, "connection held %.1fs" % elapsed)
                        # Meanwhile, well-behaved clients are served.
                        self.assertEqual(server.request("GET", "sys/health").status_code, 501)

    # ---- header size --------------------------------------------------------------------

    def test_huge_header_block_is_refused(self):
        cases = {
            "one 100 KB header": ["X-Big: " + "a" * 100000],
            "2000 small headers": ["X-H%d: %s" % (i, "b" * 40) for i in range(2000)],
        }
        for label, headers in cases.items():
            with self.subTest(case=label):
                raw = h.raw_exchange(self.server,
                                     [http_request("GET", "/v1/sys/health", headers)])
                status, resp_headers, _ = split_raw_response(raw)
                # Either an explicit 431 or a closed connection without a response.
                self.assertIn(status, (431, None), raw[:300])
                if status == 431:
                    self.assert_api_headers(resp_headers, "431 response")
                self.assertNotIn(b'"initialized"', raw)
                self.assert_still_serving()

    # ---- JSON complexity / malformed ------------------------------------------------------

    def test_deeply_nested_json_is_refused(self):
        depth = 10000
        bodies = {
            "arrays": "[" * depth + "]" * depth,
            "objects": '{"a":' * depth + "1" + "}" * depth,
            "arrays in an object": '{"junk":' + "[" * depth + "]" * depth + "}",
        }
        for label, body in bodies.items():
            for path, token in (("sys/unseal", None), ("sys/rotate", self.root)):
                with self.subTest(body=label, path=path):
                    r = self.server.request("PUT", path, token=token, data=body)
                    self.assertEqual(r.status_code, 400, r.text)
                    self.assertIn(COMPLEXITY, r.json()["errors"])
                    self.assert_api_headers(r.headers, "400 complexity")
        self.assert_still_serving()

    def test_nesting_below_the_limit_is_accepted(self):
        r = self.rotate_with('{"junk":' + "[" * 250 + "]" * 250 + "}")
        self.assertIn(r.status_code, (200, 204), r.text)

    def test_too_many_strings_are_refused(self):
        body = json.dumps({"junk": ["s%d" % i for i in range(1001)]})
        r = self.rotate_with(body)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn(COMPLEXITY, r.json()["errors"])
        r = self.server.request("PUT", "sys/unseal", data=body)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn(COMPLEXITY, r.json()["errors"])
        # Below the limit (999 values + 1 key) the same shape is fine.
        r = self.rotate_with(json.dumps({"junk": ["s%d" % i for i in range(999)]}))
        self.assertIn(r.status_code, (200, 204), r.text)
        self.assert_still_serving()

    def test_malformed_json_is_400(self):
        bodies = ["{bad json}", '{"key": "abc"', '{"a":1}{"b":2}', "[1,2]", '"a string"',
                  "{\"key\": \"\xff\"}"]
        for body in bodies:
            with self.subTest(body=body):
                r = self.server.request("PUT", "sys/unseal", data=body.encode("latin-1"),
                                        headers={"Content-Type": "application/json"})
                self.assertEqual(r.status_code, 400, r.text)
                self.assertTrue(r.json()["errors"], r.text)
                self.assert_api_headers(r.headers, "400 malformed")
        r = self.rotate_with(b"\x00\x01garbage\xfe")
        self.assertEqual(r.status_code, 400, r.text)
        self.assert_still_serving()

    # ---- paths and list ------------------------------------------------------------------

    def test_dot_dot_segments_are_refused(self):
        targets = ["/v1/sys/../sys/health", "/v1/sys/%2e%2e/sys/health",
                   "/v1/sys/%2E%2E/sys/health", "/v1/%2e%2e/v1/sys/health",
                   "/v1/sys/health/..", "/v1/sys/.%2e/sys/health"]
        for target in targets:
            with self.subTest(target=target):
                raw = h.raw_exchange(self.server, [http_request(
                    "GET", target, ["X-Vault-Token: " + self.root, "Connection: close"])])
                status, headers, body = split_raw_response(raw)
                self.assertEqual(status, 400, raw[:300])
                self.assert_api_headers(headers, "400 path")
                self.assertNotIn(b'"initialized"', body)

    def test_list_verb_and_list_query_are_accepted(self):
        missing = "nope-%s/x" % uuid.uuid4().hex[:8]
        for method, query in (("LIST", ""), ("GET", "?list=true"), ("GET", "?list=1"),
                              ("GET", "?list=True"), ("GET", "?list=t")):
            with self.subTest(method=method, query=query):
                r = self.server.request(method, missing + query, token=self.root)
                self.assertEqual(r.status_code, 404, r.text)
                self.assert_api_headers(r.headers, "404 list")
        for bad in ("maybe", "yes", "2"):
            with self.subTest(list=bad):
                r = self.server.request("GET", missing + "?list=" + bad, token=self.root)
                self.assertEqual(r.status_code, 400, r.text)
        r = self.server.request("GET", missing + "?list=false", token=self.root)
        self.assertEqual(r.status_code, 404, r.text)

    # ---- headers on every response ----------------------------------------------------

    def test_every_response_carries_json_and_no_store_headers(self):
        s, root = self.server, self.root
        samples = {
            200: s.request("GET", "sys/health"),
            204: s.request("PUT", "sys/rotate", token=root),
            400: s.request("PUT", "sys/unseal", data="{oops"),
            403: s.request("GET", "sys/key-status"),
            404: s.request("GET", "no-such-mount/x", token=root),
            405: s.request("BREW", "sys/health"),
            299: s.request("GET", "sys/health", params={"activecode": 299}),
        }
        for expected, r in samples.items():
            with self.subTest(status=expected):
                self.assertEqual(r.status_code, expected, r.text)
                self.assert_api_headers(r.headers, "status %d" % expected)
                if expected >= 400:
                    self.assertIsInstance(r.json().get("errors"), list, r.text)
        head = s.request("HEAD", "sys/health")
        self.assertEqual(head.status_code, 200)
        self.assert_api_headers(head.headers, "HEAD")
        self.assertEqual(head.content, b"")

        # 501 / 503 from a second, uninitialised server.
        with tempfile.TemporaryDirectory(prefix="coffer-e2e-uninit-") as tmp:
            config = h.write_config(os.path.join(tmp, "server.hcl"), storage="inmem",
                                    certs=self.certs)
            with h.CofferServer.config(config, tmp, ca=self.certs["ca"]) as fresh:
                for expected, r in ((501, fresh.request("GET", "sys/health")),
                                    (503, fresh.request("GET", "secret/x", token="t"))):
                    with self.subTest(status=expected):
                        self.assertEqual(r.status_code, expected, r.text)
                        self.assert_api_headers(r.headers, "status %d" % expected)
                        self.assertIsInstance(r.json()["errors" if expected == 503
                                                       else "initialized"], (list, bool))


if __name__ == "__main__":
    unittest.main(verbosity=2)
