#!/usr/bin/python3
"""Crash durability on rocksdb: every write the server acknowledged (2xx) survives a kill -9 in
the middle of a stream of writes, with its exact value, across several crashes."""

import os
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import coffer_harness as h  # noqa: E402

KILL_AFTER_SECONDS = (1.5, 0.7, 2.2)  # a different moment in the stream for every round
WRITE_TIMEOUT = 5.0


class Writer(threading.Thread):
    """PUTs kv/<prefix>/<i> sequentially until told to stop or the server goes away."""

    def __init__(self, server, token, prefix):
        super().__init__(daemon=True)
        self.url = server.url + "/v1/kv/" + prefix + "/"
        self.verify = server.verify()
        self.token = token
        self.acked = {}  # i -> value, only for 2xx answers
        self.in_flight = None  # (i, value) of the request that got no answer
        self.unexpected = []  # (i, status, body) of non-2xx answers
        self.stop_flag = threading.Event()
        self.error = None

    def run(self):
        session = requests.Session()
        session.headers["X-Vault-Token"] = self.token
        i = 0
        try:
            while not self.stop_flag.is_set():
                value = "%d-%s" % (i, uuid.uuid4().hex)
                self.in_flight = (i, value)
                try:
                    r = session.put(self.url + str(i), json={"v": value}, verify=self.verify,
                                    timeout=WRITE_TIMEOUT)
                except requests.RequestException as e:
                    self.error = e  # the server died under us: expected once per round
                    return
                if 200 <= r.status_code < 300:
                    self.acked[i] = value
                    self.in_flight = None
                else:
                    self.unexpected.append((i, r.status_code, r.text))
                    self.in_flight = None
                    return
                i += 1
        finally:
            session.close()


@h.require_binary
class CrashDurabilityTest(h.TempDirTestCase):
    def test_acknowledged_writes_survive_kill_9(self):
        certs = h.make_certs(os.path.join(self.tmp, "certs"))
        data_dir = os.path.join(self.tmp, "data")
        config = h.write_config(os.path.join(self.tmp, "server.hcl"), data_dir=data_dir,
                                certs=certs)
        server = self.track(h.CofferServer.config(config, self.tmp, ca=certs["ca"]))
        server.start()
        init = h.init_and_unseal(server, shares=1, threshold=1)
        root, key = init["root_token"], init["keys"][0]
        h.mount_kv_v1(server, root)

        acknowledged = {}  # "r<round>/<i>" -> value, across all rounds
        for round_number, kill_after in enumerate(KILL_AFTER_SECONDS):
            with self.subTest(round=round_number, kill_after=kill_after):
                prefix = "crash/r%d" % round_number
                writer = Writer(server, root, prefix)
                writer.start()
                time.sleep(kill_after)
                server.kill()  # SIGKILL mid-stream: no drain, no flush
                writer.stop_flag.set()
                writer.join(timeout=WRITE_TIMEOUT + 5)
                self.assertFalse(writer.is_alive(), "writer thread did not finish")
                self.assertEqual(writer.unexpected, [], "non-2xx answers before the crash")
                self.assertGreater(len(writer.acked), 10,
                                   "too few writes before the kill to mean anything")
                sys.stderr.write("\n  round %d: %d writes acknowledged before kill -9 at %.1fs "
                                 "(in flight: %s)\n" % (round_number, len(writer.acked), kill_after,
                                                        writer.in_flight is not None))
                for i, value in writer.acked.items():
                    acknowledged["r%d/%d" % (round_number, i)] = value

                # Restart on the same data: sealed, unseals with the same key.
                server.start()
                client = server.hvac()
                self.assertTrue(client.sys.is_initialized())
                self.assertTrue(client.sys.is_sealed())
                h.unseal(server, [key])

                session = requests.Session()
                session.headers["X-Vault-Token"] = root
                try:
                    lost, wrong = [], []
                    for name, value in acknowledged.items():
                        r = session.get(server.url + "/v1/kv/crash/" + name,
                                        verify=server.ca, timeout=h.HTTP_TIMEOUT)
                        if r.status_code != 200:
                            lost.append((name, r.status_code))
                        elif r.json()["data"] != {"v": value}:
                            wrong.append((name, r.json()["data"], value))
                    self.assertEqual(lost, [], "acknowledged writes lost after kill -9")
                    self.assertEqual(wrong, [], "acknowledged writes changed after kill -9")

                    # The one write without an answer is either absent or complete.
                    if writer.in_flight is not None:
                        i, value = writer.in_flight
                        r = session.get(server.url + "/v1/kv/%s/%d" % (prefix, i),
                                        verify=server.ca, timeout=h.HTTP_TIMEOUT)
                        self.assertIn(r.status_code, (200, 404), r.text)
                        if r.status_code == 200:
                            self.assertEqual(r.json()["data"], {"v": value})

                    # LIST agrees with what was acknowledged in this round.
                    r = session.request("LIST", server.url + "/v1/kv/" + prefix,
                                        verify=server.ca, timeout=h.HTTP_TIMEOUT)
                    self.assertEqual(r.status_code, 200, r.text)
                    listed = set(r.json()["data"]["keys"])
                    missing = {str(i) for i in writer.acked} - listed
                    self.assertEqual(missing, set(), "acknowledged keys missing from LIST")
                finally:
                    session.close()

                # The restarted server keeps accepting writes.
                r = server.request("PUT", "kv/crash/after-r%d" % round_number, token=root,
                                   json={"v": "ok"})
                self.assertIn(r.status_code, (200, 204), r.text)
                acknowledged["after-r%d" % round_number] = "ok"

        self.assertEqual(server.stop(), 0, server.stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)
