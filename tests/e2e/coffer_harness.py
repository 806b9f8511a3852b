"""Shared helpers for the end-to-end tests: start the real coffer binary, make certificates,
write configurations, talk raw HTTP(S).

Every wait is bounded. Every server started through CofferServer is killed when the test ends
(tearDown / context manager) and, as a last resort, at interpreter exit, so no run leaves an
orphan process behind.
"""

import atexit
import base64
import ctypes
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import requests

COFFER_BIN = os.environ.get("COFFER_BIN", "/work/main/build/coffer")

START_TIMEOUT = 20.0  # seconds to wait for the "listening on" log line
STOP_TIMEOUT = 20.0  # seconds to wait for a graceful exit after SIGTERM
HTTP_TIMEOUT = 10.0  # per request

_LISTENING_RE = re.compile(r"listening on (\S+):(\d+) \((TLS|plain HTTP)\)")

_live_servers = set()


def _kill_leftovers():
    for server in list(_live_servers):
        server.kill()


atexit.register(_kill_leftovers)


def _exit_on_sigterm(signum, frame):
    # ctest stops a test that runs past its TIMEOUT with SIGTERM; turn that into SystemExit so
    # atexit and the finally/tearDown paths still kill the servers.
    raise SystemExit(128 + signum)


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def _die_with_parent():
    # Runs in the child between fork and exec: if the test process dies without cleaning up
    # (even by SIGKILL), the kernel kills the server too.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def require_binary(test_case_class):
    """Class decorator: skip the whole class when the binary is missing."""
    if not os.access(COFFER_BIN, os.X_OK):
        return unittest.skip("coffer binary not found at %s (set COFFER_BIN)" % COFFER_BIN)(
            test_case_class)
    return test_case_class


# --------------------------------------------------------------------------------------------
# Certificates


def _openssl(*args, cwd=None):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True, timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _genkey(path, key_type):
    if key_type == "rsa":
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    else:
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", path)


def _sign(directory, csr, out, ca, ca_key, extensions):
    ext = out + ".ext.cnf"
    with open(ext, "w") as f:
        f.write(extensions)
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
             "-days", "2", "-sha256", "-extfile", ext, "-out", out)


def make_certs(directory, ca_name="coffer e2e test CA", key_type="ec"):
    """Writes a CA and a server certificate for 127.0.0.1/localhost signed by it.
    key_type "ec" (P-256, the default) or "rsa" (2048) for the server key.

    Returns a dict with paths: ca, ca_key, cert, key.
    """
    os.makedirs(directory, exist_ok=True)
    p = lambda name: os.path.join(directory, name)  # noqa: E731
    _genkey(p("ca-key.pem"), "ec")
    _openssl("req", "-x509", "-new", "-key", p("ca-key.pem"), "-sha256", "-days", "2",
             "-subj", "/CN=" + ca_name, "-out", p("ca.pem"),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _genkey(p("server-key.pem"), key_type)
    _openssl("req", "-new", "-key", p("server-key.pem"), "-subj", "/CN=127.0.0.1",
             "-out", p("server.csr"))
    usage = "digitalSignature,keyEncipherment" if key_type == "rsa" else "digitalSignature"
    _sign(directory, p("server.csr"), p("server.pem"), p("ca.pem"), p("ca-key.pem"),
          "basicConstraints=CA:FALSE\n"
          "keyUsage=critical,%s\n"
          "extendedKeyUsage=serverAuth\n"
          "subjectAltName=IP:127.0.0.1,DNS:localhost\n" % usage)
    return {"ca": p("ca.pem"), "ca_key": p("ca-key.pem"), "cert": p("server.pem"),
            "key": p("server-key.pem")}


def make_client_cert(certs, name="client"):
    """A client certificate (clientAuth) signed by the CA of make_certs. Returns (cert, key)."""
    directory = os.path.dirname(certs["ca"])
    key = os.path.join(directory, name + "-key.pem")
    csr = os.path.join(directory, name + ".csr")
    cert = os.path.join(directory, name + ".pem")
    _genkey(key, "ec")
    _openssl("req", "-new", "-key", key, "-subj", "/CN=" + name, "-out", csr)
    _sign(directory, csr, cert, certs["ca"], certs["ca_key"],
          "basicConstraints=CA:FALSE\n"
          "keyUsage=critical,digitalSignature\n"
          "extendedKeyUsage=clientAuth\n")
    return cert, key


def cert_der(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def peer_cert_der(port, timeout=HTTP_TIMEOUT):
    """The DER certificate the server presents on a fresh connection (no verification)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with client_tls_context(None).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.getpeercert(binary_form=True)


# --------------------------------------------------------------------------------------------
# Configuration files


def _hcl_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def write_config(path, storage="rocksdb", data_dir=None, certs=None, address="127.0.0.1:0",
                 listener_extra=None, extra_lines=(), log_level="info"):
    """Writes an HCL server config and returns its path.

    storage: "rocksdb" (needs data_dir) or "inmem". certs: dict from make_certs, or None for a
    listener without TLS files (then set listener_extra={"tls_disable": True} for plain HTTP).
    """
    lines = []
    if storage == "rocksdb":
        lines.append('storage "rocksdb" { path = %s }' % json.dumps(data_dir))
    else:
        lines.append('storage "%s" {}' % storage)
    lines.append('listener "tcp" {')
    lines.append("  address = %s" % json.dumps(address))
    if certs is not None:
        lines.append("  tls_cert_file = %s" % json.dumps(certs["cert"]))
        lines.append("  tls_key_file  = %s" % json.dumps(certs["key"]))
    for key, value in (listener_extra or {}).items():
        lines.append("  %s = %s" % (key, _hcl_value(value)))
    lines.append("}")
    if log_level:
        lines.append("log_level = %s" % json.dumps(log_level))
    lines.extend(extra_lines)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_binary(args, timeout=20.0):
    """Runs coffer to completion (for configs that must be refused). Returns CompletedProcess."""
    return subprocess.run([COFFER_BIN] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


# --------------------------------------------------------------------------------------------
# Server process


class CofferServer:
    """One coffer server process with stdout/stderr captured to files in log_dir."""

    def __init__(self, args, log_dir, ca=None, name="coffer"):
        self.args = list(args)
        self.log_dir = log_dir
        self.ca = ca
        self.name = name
        self.proc = None
        self.host = None
        self.port = None
        self.tls = True
        self._starts = 0
        self._clients = []
        self.stdout_path = None
        self.stderr_path = None

    @classmethod
    def config(cls, config_path, log_dir, ca=None):
        return cls(["server", "-config=" + config_path], log_dir, ca=ca)

    @classmethod
    def dev(cls, log_dir, root_token="ROOT", extra_args=()):
        """extra_args: more flags for `coffer server -dev`, e.g.
        ("-dev-unsafe-allow-api-audit-creation",)."""
        cert_dir = os.path.join(log_dir, "dev-certs")
        server = cls(["server", "-dev", "-dev-root-token-id=" + root_token,
                      "-dev-listen-address=127.0.0.1:0", "-dev-tls-cert-dir=" + cert_dir]
                     + list(extra_args),
                     log_dir, ca=os.path.join(cert_dir, "ca.pem"), name="coffer-dev")
        return server

    def dev_unseal_key(self, timeout=5.0):
        """The unseal key a dev server prints in its stdout banner (None if not shown in time:
        the banner follows the "listening on" line start() waits for)."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(r"^Unseal Key: (\S+)$", self.stdout(), re.MULTILINE)
            if match or time.monotonic() > deadline:
                return match.group(1) if match else None
            time.sleep(0.02)

    # ---- lifecycle

    def start(self, timeout=START_TIMEOUT):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._starts += 1
        base = os.path.join(self.log_dir, "%s.%d" % (self.name, self._starts))
        self.stdout_path, self.stderr_path = base + ".stdout", base + ".stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            # TMPDIR: a dev server's data directory lands in this test's temporary directory,
            # so it is removed with it even when the server is killed rather than stopped.
            env = dict(os.environ, TMPDIR=self.log_dir)
            self.proc = subprocess.Popen([COFFER_BIN] + self.args, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, env=env,
                                         preexec_fn=_die_with_parent)
        _live_servers.add(self)
        deadline = time.monotonic() + timeout
        while True:
            match = _LISTENING_RE.search(self.stderr())
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                self.tls = match.group(3) == "TLS"
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("coffer exited with %s before listening; stderr:\n%s"
                                   % (self.proc.returncode, self.stderr()))
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("coffer did not report listening within %.0fs; stderr:\n%s"
                                   % (timeout, self.stderr()))
            time.sleep(0.02)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit code (kills and fails on timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("coffer did not exit within %.0fs of SIGTERM" % timeout)
        self._close_clients()
        _live_servers.discard(self)
        return self.proc.returncode

    def kill(self):
        """SIGKILL (no-op if already gone) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close_clients()
        _live_servers.discard(self)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start() if not self.running() else self

    def __exit__(self, *exc):
        self.kill()
        return False

    # ---- logs

    def stderr(self):
        return _read_text(self.stderr_path)

    def stdout(self):
        return _read_text(self.stdout_path)

    def all_stderr_bytes(self):
        """Concatenated stderr of every start of this server."""
        return self._all_logs(".stderr")

    def all_stdout_bytes(self):
        return self._all_logs(".stdout")

    def _all_logs(self, suffix):
        data = b""
        for i in range(1, self._starts + 1):
            path = os.path.join(self.log_dir, "%s.%d%s" % (self.name, i, suffix))
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data += f.read()
        return data

    def wait_for_log(self, needle, timeout=10.0, after=0):
        """Waits until stderr (from byte offset `after`) contains needle; returns True/False."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.stderr()[after:]:
                return True
            time.sleep(0.02)
        return False

    # ---- clients

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def verify(self):
        return self.ca if self.tls else False

    def hvac(self, token=None):
        import hvac
        client = hvac.Client(url=self.url, token=token, verify=self.verify(), timeout=HTTP_TIMEOUT)
        self._clients.append(client)
        return client

    def _close_clients(self):
        for client in self._clients:
            try:
                client.adapter.close()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
        self._clients = []

    def request(self, method, path, token=None, **kwargs):
        """requests-based call to /v1/<path>. Returns the requests.Response."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["X-Vault-Token"] = token
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return requests.request(method, self.url + "/v1/" + path.lstrip("/"), headers=headers,
                                verify=self.verify(), **kwargs)


def _read_text(path):
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# Vault-level helpers


def init_and_unseal(server, shares=1, threshold=1):
    """Initialises via PUT sys/init and unseals with the first `threshold` keys.

    Returns the sys/init response dict (keys, keys_base64, root_token).
    """
    r = server.request("PUT", "sys/init",
                       json={"secret_shares": shares, "secret_threshold": threshold})
    if r.status_code != 200:
        raise AssertionError("sys/init -> %d %s" % (r.status_code, r.text))
    init = r.json()
    unseal(server, init["keys"][:threshold])
    return init


def unseal(server, keys):
    status = None
    for key in keys:
        r = server.request("PUT", "sys/unseal", json={"key": key})
        if r.status_code != 200:
            raise AssertionError("sys/unseal -> %d %s" % (r.status_code, r.text))
        status = r.json()
    if status is None or status.get("sealed") is not False:
        raise AssertionError("still sealed after %d keys: %r" % (len(keys), status))
    return status


def kv_available(server, token):
    """True when the server has sys/mounts (KV can be mounted); False on 404."""
    r = server.request("GET", "sys/mounts", token=token)
    return r.status_code != 404


def mount_kv_v1(server, token, path="kv"):
    r = server.request("POST", "sys/mounts/" + path, token=token, json={"type": "kv"})
    if r.status_code not in (200, 204):
        raise AssertionError("mounting kv -> %d %s" % (r.status_code, r.text))


def b64_to_hex(b64):
    return base64.b64decode(b64).hex()


# --------------------------------------------------------------------------------------------
# Raw sockets


def client_tls_context(ca=None):
    ctx = ssl.create_default_context()
    if ca:
        ctx.load_verify_locations(ca)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def open_socket(server, timeout=HTTP_TIMEOUT):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    if server.tls:
        sock = client_tls_context(server.ca).wrap_socket(sock, server_hostname="127.0.0.1")
    return sock


def raw_exchange(server, payload_chunks, timeout=HTTP_TIMEOUT, max_bytes=1 << 20):
    """Sends the byte chunks like a careful HTTP client (curl does the same): before each chunk
    it checks whether the server has already answered, and if so stops sending. Stops quietly
    if the server closes the connection early. Then reads until the server closes or a full
    response with Content-Length has arrived.

    Returns the bytes received (b"" if the connection was closed without a response).
    """
    sock = open_socket(server, timeout=timeout)
    received = b""
    closed = False
    try:
        try:
            for chunk in payload_chunks:
                early = _poll_early_answer(sock, timeout)
                if early is not None:
                    received = early
                    closed = early == b""
                    break  # an early answer (413, 431, 400) or a close: stop sending
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        deadline = time.monotonic() + timeout
        while (not closed and not _complete_response(received)
               and time.monotonic() < deadline and len(received) < max_bytes):
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                break
            if not data:
                break
            received += data
    finally:
        try:
            sock.close()
        except OSError:
            pass
    return received


def split_chunks(data, size=65536):
    return [data[i:i + size] for i in range(0, len(data), size)]


def _poll_early_answer(sock, timeout):
    """None while the server has sent no application data; else the bytes it sent (b"" when it
    closed the connection). TLS 1.3 session tickets make the socket readable without any HTTP
    data, so readability alone is not an answer."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable and not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
        return None
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return None
    except (ConnectionResetError, ssl.SSLError, OSError):
        return b""
    finally:
        sock.settimeout(timeout)


def _complete_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return bool(match) and len(body) >= int(match.group(1))


def parse_status(raw):
    """HTTP status code of a raw response, or None."""
    match = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(match.group(1)) if match else None


class TempDirTestCase(unittest.TestCase):
    """Gives each test self.tmp (a TemporaryDirectory path) and kills servers it registered."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-")
        self.tmp = self._tmp.name
        self._servers = []

    def tearDown(self):
        for server in self._servers:
            server.kill()
        self._tmp.cleanup()

    def track(self, server):
        self._servers.append(server)
        return server


def unique(prefix):
    """A name no other test uses: prefix plus 10 random hex digits."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class DevServerCase(unittest.TestCase):
    """One dev server (KV v2 at secret/) per test class, with a random root token id.
    Subclasses get cls.server, cls.root_token, cls.root (an hvac client) and raw();
    they may set dev_args (extra `server -dev` flags)."""

    dev_args = ()

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-")
        cls.addClassCleanup(tmp.cleanup)
        cls.root_token = "e2e-root-" + uuid.uuid4().hex
        cls.server = CofferServer.dev(tmp.name, root_token=cls.root_token,
                                      extra_args=cls.dev_args)
        cls.addClassCleanup(cls.server.kill)
        cls.server.start()
        cls.root = cls.server.hvac(cls.root_token)

    def raw(self, method, path, token=None, **kwargs):
        return self.server.request(method, path, token=self.root_token if token is None else token,
                                   **kwargs)
