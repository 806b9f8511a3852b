#!/usr/bin/python3
"""`coffer audit verify` and `coffer audit query` on audit log files, offline.

The logs are written here by an independent Python implementation of the chain framing
(vault/audit/chain.h): {"chain":{"seq":N,"prev":"<hex>"},<entry fields, keys sorted>,
"hash":"<hex>"} with hash = SHA-256 of every byte before `,"hash":"`. Each tamper test damages
a known line and checks the exact line number and verdict; each query test runs one filter on
a crafted log whose answer is known (planted entries, plus background entries whose matches
are counted by a Python predicate), and checks the exact chain sequence numbers returned.

A last class runs a dev server with a file audit device and checks the real log, when the
server supports audit devices (skipped otherwise).
"""

import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coffer_harness as h  # noqa: E402

CLI_TIMEOUT = 60.0
UNUSED_ADDR = "https://127.0.0.1:1"  # nothing listens: an offline command must not need it


# --------------------------------------------------------------------------------------------
# Framing (independent of coffer's C++)


def frame(entry, seq, prev):
    """One chained line (no newline) and its hash."""
    fields = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    inner = fields[1:-1]
    head = '{"chain":{"seq":%d,"prev":"%s"}' % (seq, prev)
    body = head + ("," + inner if inner else "")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return body + ',"hash":"' + digest + '"}', digest


def chain(entries, seq=0, prev=""):
    """Frames entries in order; returns (lines, last seq, last hash)."""
    lines = []
    for entry in entries:
        seq += 1
        line, prev = frame(entry, seq, prev)
        lines.append(line)
    return lines, seq, prev


def line_hash(line):
    return json.loads(line)["hash"]


def hmac_of(text):
    return "hmac-sha256:" + hashlib.sha256(("test-key:" + text).encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Entries


def fmt_time(dt, nanos=0):
    """Go's RFC3339Nano in UTC: fraction without trailing zeros."""
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += "." + ("%09d" % nanos).rstrip("0")
    return text + "Z"


def utc(*args):
    return datetime.datetime(*args, tzinfo=datetime.timezone.utc)


def make_auth(name, entity, accessor=None, metadata=None):
    return {
        "accessor": accessor or hmac_of("accessor-" + name),
        "client_token": hmac_of("token-" + name),
        "display_name": name,
        "entity_id": entity,
        "identity_kind": "human" if entity.startswith("ent-") else "service",
        "identity_policies": [],
        "metadata": metadata or {},
        "policies": ["default", name],
        "policy_results": {
            "allowed": True,
            "granting_policies": [{"name": name, "namespace_id": "root", "type": "acl"}],
        },
        "token_policies": ["default", name],
        "token_type": "service",
    }


class Record:
    """One request: becomes a request entry and a response entry."""

    def __init__(self, when, nanos, operation, path, auth, intent="", remote="127.0.0.1",
                 status=200, error=None, req_data=None, resp_data=None, client_accessor=None):
        self.when, self.nanos = when, nanos
        self.time = fmt_time(when, nanos)
        self.key = (int(when.timestamp()), nanos)
        key = "%s|%s|%s|%s" % (self.time, path, operation, auth["display_name"])
        self.id = str(uuid.UUID(bytes=hashlib.md5(key.encode()).digest()))
        self.operation, self.path, self.auth = operation, path, auth
        self.intent, self.remote, self.status, self.error = intent, remote, status, error
        self.req_data, self.resp_data = req_data, resp_data
        self.client_accessor = client_accessor or auth["accessor"]

    def request(self):
        req = {
            "client_token": self.auth["client_token"],
            "client_token_accessor": self.client_accessor,
            "id": self.id,
            "intent": self.intent,
            "mount_point": self.path.split("/")[0] + "/",
            "mount_type": "kv" if self.path.startswith("secret/") else "system",
            "namespace": {"id": "root"},
            "operation": self.operation,
            "path": self.path,
            "remote_address": self.remote,
            "wrap_ttl": 0,
        }
        if self.req_data is not None:
            req["data"] = self.req_data
        return req

    def entries(self):
        request = {"auth": self.auth, "request": self.request(), "time": self.time,
                   "type": "request"}
        response = {"auth": self.auth, "request": self.request(),
                    "response": {"status_code": self.status}, "time": self.time,
                    "type": "response"}
        if self.resp_data is not None:
            response["response"]["data"] = self.resp_data
        if self.error is not None:
            request["error"] = self.error
            response["error"] = self.error
        return [request, response]


def noise_records(count, start=utc(2026, 11, 1), seed_name="noise"):
    """Background traffic: app secrets, token lookups, mounts; some denied, some 404."""
    records = []
    ops = ["read", "read", "update", "list", "read", "create"]
    for i in range(count):
        when = start + datetime.timedelta(minutes=29 * i)
        op = ops[i % len(ops)]
        if i % 10 == 0:
            op, path = "read", "auth/token/lookup-self"
        elif i % 13 == 0:
            op, path = "read", "sys/mounts"
        elif op == "list":
            path = "secret/metadata/app/"
        else:
            path = "secret/data/app/svc-%d" % (i % 40)
        name = "svc-%d" % (i % 9)
        auth = make_auth(name, "svc-entity-%d" % (i % 9))
        status, error = 200, None
        if i % 47 == 5:
            status, error = 403, "1 error occurred:\n\t* permission denied\n\n"
        elif i % 61 == 7:
            status = 404
        req_data = resp_data = None
        if op in ("update", "create"):
            req_data = {"data": {"password": hmac_of("%s-pw-%d" % (seed_name, i))}}
            resp_data = {"created_time": hmac_of("ct-%d" % i), "version": hmac_of("v%d" % i)}
        elif op == "read" and status == 200:
            resp_data = {"data": {"password": hmac_of("%s-pw-%d" % (seed_name, i))},
                         "metadata": {"version": hmac_of("v%d" % i)}}
        records.append(Record(when, (i * 7919) % 10**9 if i % 4 else 0, op, path, auth,
                              intent=("deploy %d" % i) if i % 3 == 0 else "",
                              remote="10.0.%d.%d" % (i % 7, i % 250 + 1),
                              status=status, error=error, req_data=req_data,
                              resp_data=resp_data))
    return records


def entries_of(records):
    records = sorted(records, key=lambda r: r.key)
    out = []
    for r in records:
        out.extend(r.entries())
    return out


# --------------------------------------------------------------------------------------------
# Running the CLI


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VAULT_") and not k.startswith("COFFER_")}
    env["VAULT_ADDR"] = UNUSED_ADDR
    return env


class AuditCliCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="coffer-e2e-audit-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.env = clean_env()
        cls.env["HOME"] = cls.tmp

    def coffer(self, *args, env=None, input=None):
        return subprocess.run([h.COFFER_BIN] + list(args), env=env or self.env, input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=CLI_TIMEOUT)

    def write_log(self, lines, name=None, newline_at_end=True, raw_tail=""):
        path = os.path.join(self.tmp, name or ("log-%s.log" % uuid.uuid4().hex[:8]))
        text = "\n".join(lines) + ("\n" if newline_at_end and lines else "") + raw_tail
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


# --------------------------------------------------------------------------------------------
# verify


@h.require_binary
class VerifyTest(AuditCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 600 requests -> 1200 lines, realistic entries.
        cls.entries = entries_of(noise_records(600))
        cls.lines, cls.last_seq, _ = chain(cls.entries)
        assert len(cls.lines) == 1200

    def verify(self, path, code):
        p = self.coffer("audit", "verify", path)
        self.assertEqual(p.returncode, code, "exit %d\nstdout:\n%s\nstderr:\n%s"
                         % (p.returncode, p.stdout, p.stderr))
        return p.stdout.splitlines()

    def assert_finding(self, lines, path, line_no, kind, *details):
        self.assertEqual(len(lines), 1, lines)
        prefix = "%s: line %d: %s: " % (path, line_no, kind)
        self.assertTrue(lines[0].startswith(prefix), "%r does not start with %r"
                        % (lines[0], prefix))
        for detail in details:
            self.assertIn(detail, lines[0])

    def test_intact_log(self):
        path = self.write_log(self.lines)
        self.assertEqual(self.verify(path, 0), ["%s: intact, 1200 entries" % path])

    def test_intact_log_as_json(self):
        path = self.write_log(self.lines)
        p = self.coffer("audit", "verify", "-format=json", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["intact"], True)
        self.assertEqual(out["entries"], 1200)
        self.assertEqual(out["notes"], [])
        self.assertNotIn("problem", out)

    def test_empty_log_is_intact(self):
        path = self.write_log([])
        self.assertEqual(self.verify(path, 0), ["%s: intact, 0 entries" % path])

    def test_one_edited_byte_in_a_middle_line(self):
        lines = list(self.lines)
        target = lines[599]  # line 600
        at = target.index('"path":"') + len('"path":"') + 2
        lines[599] = target[:at] + ("X" if target[at] != "X" else "Y") + target[at + 1:]
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 600, "edited", "do not match its hash")

    def test_every_byte_of_one_line_flipped(self):
        # Tamper test over a whole line (the first one, whose prev is ""): whatever byte is
        # changed, the verdict names line 1 and never calls the log intact.
        short, _, _ = chain(self.entries[:3])
        first = short[0]
        step = max(1, len(first) // 60)
        for at in list(range(0, len(first), step)) + [len(first) - 1]:
            with self.subTest(byte=at):
                changed = first[:at] + ("#" if first[at] != "#" else "%") + first[at + 1:]
                path = self.write_log([changed] + short[1:], name="flip.log")
                p = self.coffer("audit", "verify", path)
                self.assertEqual(p.returncode, 1, p.stdout)
                self.assertTrue(p.stdout.startswith("%s: line 1: " % path), p.stdout)

    def test_deleted_line_is_missing(self):
        lines = self.lines[:599] + self.lines[600:]  # seq 600 gone
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 600, "missing", "seq 600 missing",
                            "1 line deleted")

    def test_deleted_run_of_lines_is_missing_with_the_range(self):
        lines = self.lines[:599] + self.lines[602:]  # seq 600-602 gone
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 600, "missing", "seq 600-602 missing",
                            "3 lines deleted")

    def test_deleted_first_lines_are_missing(self):
        path = self.write_log(self.lines[2:])
        self.assert_finding(self.verify(path, 1), path, 1, "missing", "seq 1-2 missing")

    def test_swapped_lines_are_reordered(self):
        lines = list(self.lines)
        lines[599], lines[600] = lines[600], lines[599]
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 600, "reordered",
                            "seq 601 where seq 600 was due", "at line 601")

    def test_line_moved_back_within_the_window_is_reordered(self):
        lines = list(self.lines)
        moved = lines.pop(99)  # seq 100 ...
        lines.insert(1049, moved)  # ... now at line 1050, 950 lines after line 100
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 100, "reordered", "at line 1050")

    def test_line_moved_beyond_the_window_is_missing(self):
        lines = list(self.lines)
        moved = lines.pop(99)
        lines.append(moved)  # 1100 lines later: beyond the 1000-line lookahead
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 100, "missing", "seq 100 missing")

    def test_replayed_line_goes_backwards(self):
        lines = self.lines[:500] + [self.lines[499]] + self.lines[500:]
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 501, "reordered",
                            "seq 500 after seq 500", "goes backwards")

    def test_cut_last_line_is_truncated(self):
        lines = list(self.lines)
        cut = lines[-1][:len(lines[-1]) // 2]
        path = self.write_log(lines[:-1], raw_tail=cut)
        self.assert_finding(self.verify(path, 1), path, 1200, "truncated")

    def test_last_line_without_its_newline_is_truncated(self):
        path = self.write_log(self.lines, newline_at_end=False)
        self.assert_finding(self.verify(path, 1), path, 1200, "truncated", "no newline")

    def test_cut_last_line_with_a_newline_is_truncated(self):
        lines = list(self.lines)
        lines[-1] = lines[-1][:100]
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 1200, "truncated")

    def test_torn_line_recovered_at_restart_is_a_note(self):
        good, seq, last = chain(self.entries[:700])
        would_be, _ = frame(self.entries[700], seq + 1, last)
        torn = would_be[:150]  # the crash cut the write of line 701
        restart = {"time": "2026-11-30T00:00:00.25Z", "torn_line": True, "type": "restart"}
        after, total_seq, _ = chain([restart] + self.entries[700:], seq, last)
        path = self.write_log(good + [torn] + after)
        self.assertEqual(self.verify(path, 0), [
            "%s: line 701: torn line from a crash, recovered at restart" % path,
            "%s: intact, %d entries" % (path, total_seq),
        ])
        self.assertEqual(total_seq, 1201)
        p = self.coffer("audit", "verify", "-format=json", path)
        self.assertEqual(p.returncode, 0)
        out = json.loads(p.stdout)
        self.assertEqual(out["notes"], [{"line": 701, "note":
                                         "torn line from a crash, recovered at restart"}])

    def test_torn_line_that_lost_only_its_newline_is_a_note(self):
        # The whole line reached the file but not its newline: the restarted device ends the
        # line and continues the chain from the line before it.
        good, seq, last = chain(self.entries[:701])
        restart = {"time": "2026-11-30T00:00:00Z", "torn_line": True, "type": "restart"}
        before_torn = line_hash(good[699])
        after, total_seq, _ = chain([restart] + self.entries[701:], seq - 1, before_torn)
        path = self.write_log(good + after)
        self.assertEqual(self.verify(path, 0), [
            "%s: line 701: torn line from a crash, recovered at restart" % path,
            "%s: intact, %d entries" % (path, total_seq),
        ])

    def test_clean_restart_continues_the_chain(self):
        restart = {"time": "2026-11-30T00:00:00Z", "torn_line": False, "type": "restart"}
        lines, seq, _ = chain(self.entries[:300] + [restart] + self.entries[300:400])
        path = self.write_log(lines)
        self.assertEqual(self.verify(path, 0), ["%s: intact, 401 entries" % path])

    def test_torn_line_with_a_restart_that_does_not_continue_is_edited(self):
        good, seq, last = chain(self.entries[:700])
        torn = frame(self.entries[700], seq + 1, last)[0][:150]
        restart = {"time": "2026-11-30T00:00:00Z", "torn_line": True, "type": "restart"}
        # The restart claims to continue from line 699, not line 700.
        after, _, _ = chain([restart] + self.entries[700:720], seq, line_hash(good[698]))
        path = self.write_log(good + [torn] + after)
        self.assert_finding(self.verify(path, 1), path, 701, "edited", "not a framed entry")

    def test_unframed_line_in_the_middle_is_edited(self):
        lines = list(self.lines)
        lines.insert(400, '{"type":"response","note":"inserted by hand"}')
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 401, "edited", "not a framed entry")

    def test_restart_without_torn_flag_does_not_excuse_a_cut_line(self):
        good, seq, last = chain(self.entries[:700])
        torn = frame(self.entries[700], seq + 1, last)[0][:150]
        restart = {"time": "2026-11-30T00:00:00Z", "torn_line": False, "type": "restart"}
        after, _, _ = chain([restart] + self.entries[700:720], seq, last)
        path = self.write_log(good + [torn] + after)
        self.assert_finding(self.verify(path, 1), path, 701, "edited")

    def test_lines_spliced_from_another_log_are_a_broken_link(self):
        other, _, _ = chain(entries_of(noise_records(600, seed_name="other-log",
                                                     start=utc(2026, 10, 1))))
        lines = self.lines[:599] + other[599:]
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 600, "broken link",
                            "hash of line 599")

    def test_rewritten_line_with_a_fresh_hash_breaks_the_next_link(self):
        lines = list(self.lines)
        entry = dict(self.entries[599])
        entry["time"] = "2026-12-31T00:00:00Z"
        lines[599], _ = frame(entry, 600, line_hash(lines[598]))  # valid on its own
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 601, "broken link", "hash of line 600")

    def test_first_line_with_a_prev_is_a_broken_link(self):
        lines, _, _ = chain(self.entries[:10], 0, "ab" * 32)
        path = self.write_log(lines)
        self.assert_finding(self.verify(path, 1), path, 1, "broken link")

    def test_stdin(self):
        p = self.coffer("audit", "verify", "-", input="\n".join(self.lines[:50]) + "\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "-: intact, 50 entries\n")

    def test_usage_errors_and_unreadable_files_exit_2(self):
        for args in (["audit", "verify"], ["audit", "verify", "a", "b"],
                     ["audit", "verify", "-no-such-flag", "x"],
                     ["audit", "verify", os.path.join(self.tmp, "does-not-exist.log")],
                     ["audit", "verify", self.tmp]):
            with self.subTest(args=args):
                p = self.coffer(*args)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertEqual(p.stdout, "")
        p = self.coffer("audit", "verify", "-h")
        self.assertEqual(p.returncode, 0)
        self.assertIn("Exit codes", p.stdout)

    def test_no_progress_output_when_stderr_is_not_a_terminal(self):
        path = self.write_log(self.lines)
        p = self.coffer("audit", "verify", path)
        self.assertEqual(p.stderr, "")


# --------------------------------------------------------------------------------------------
# query


ALICE = make_auth("alice", "ent-alice")
BOB = make_auth("bob", "ent-bob")
MALLORY = make_auth("mallory", "ent-mallory", metadata={"time": "2020-01-01T00:00:00Z"})
CAROL = make_auth("carol", "ent-carol")
ROOT = make_auth("root", "", accessor=hmac_of("accessor-root"))
SALARY = hmac_of("salary-120000")
DENIED = "1 error occurred:\n\t* permission denied\n\n"


def planted_records():
    """Requests with known answers; names are what the tests refer to."""
    return {
        "p1": Record(utc(2026, 11, 10, 9, 0, 0), 500_000_000, "update",
                     "secret/data/payroll/2026-11", ALICE, intent="CHG-1234 Payroll fix",
                     remote="192.0.2.10", req_data={"data": {"salary": SALARY}},
                     resp_data={"version": hmac_of("1")}),
        "p2": Record(utc(2026, 11, 10, 9, 5, 0), 0, "read", "secret/data/payroll/2026-11", BOB,
                     remote="192.0.2.11",
                     resp_data={"data": {"salary": SALARY},
                                "metadata": {"version": hmac_of("1")}}),
        "p3": Record(utc(2026, 11, 12, 23, 59, 59), 999_999_999, "read",
                     "secret/data/payroll/2026-10", MALLORY, remote="203.0.113.66",
                     status=403, error=DENIED),
        "p4": Record(utc(2026, 11, 13, 8, 0, 0), 0, "list", "secret/metadata/payroll/", ALICE,
                     intent="PAYROLL audit", resp_data={"keys": [hmac_of("2026-11")]}),
        "p5": Record(utc(2026, 11, 15, 0, 0, 0), 0, "read", "secret/data/payrollx", CAROL,
                     resp_data={"nested": {"list": [hmac_of("x"), SALARY]}}),
        "p6": Record(utc(2026, 11, 16, 12, 0, 0), 0, "delete", "secret/data/payroll/old", ROOT,
                     intent="cleanup"),
        # Uses alice's accessor in the request only (auth is root's).
        "p7": Record(utc(2026, 11, 17, 12, 0, 0), 0, "read", "auth/token/lookup-accessor", ROOT,
                     client_accessor=ALICE["accessor"]),
        # Mallory's auth metadata holds a "time" key: a nested time in the raw line.
        "p8": Record(utc(2026, 11, 18, 6, 30, 0), 0, "read", "secret/data/payroll/2026-11",
                     MALLORY, intent="salary check"),
    }


@h.require_binary
class QueryTest(AuditCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.planted = planted_records()
        records = noise_records(1000) + list(cls.planted.values())
        entries = entries_of(records)
        # An event and a clean restart among them, for -type=all.
        entries.insert(500, {"event": "seal", "time": "2026-11-08T00:00:00Z", "type": "event",
                             "auth": ROOT})
        entries.insert(900, {"time": "2026-11-09T00:00:00Z", "torn_line": False,
                             "type": "restart"})
        cls.entries = entries
        lines, _, _ = chain(entries)
        cls.lines = lines
        cls.path = cls.write_class_log(lines)
        # seq (1-based line number) of each entry, and of each planted request's entries.
        cls.seq_of = {}
        for seq, entry in enumerate(entries, start=1):
            req = entry.get("request", {})
            cls.seq_of.setdefault((req.get("id"), entry["type"]), seq)

    @classmethod
    def write_class_log(cls, lines):
        path = os.path.join(cls.tmp, "query.log")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def seq(self, name, entry_type="response"):
        return self.seq_of[(self.planted[name].id, entry_type)]

    def query(self, *args, path=None):
        p = self.coffer("audit", "query", "-format=json", *args, path or self.path)
        self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        out = [json.loads(line) for line in p.stdout.splitlines()]
        return [entry["chain"]["seq"] for entry in out]

    def expect(self, predicate, entry_type="response"):
        return [seq for seq, e in enumerate(self.entries, start=1)
                if (entry_type == "all" or e["type"] == entry_type) and predicate(e)]

    # ---- filters

    def test_path_glob(self):
        self.assertEqual(self.query("-path", "secret/data/payroll/*"),
                         sorted([self.seq("p1"), self.seq("p2"), self.seq("p3"),
                                 self.seq("p6"), self.seq("p8")]))
        # `*` also matches '/': payrollx and everything below payroll/.
        self.assertEqual(self.query("--path", "secret/data/payroll*"),
                         sorted([self.seq(n) for n in ("p1", "p2", "p3", "p5", "p6", "p8")]))
        self.assertEqual(self.query("-path=secret/data/payroll/202?-1?"),
                         sorted([self.seq(n) for n in ("p1", "p2", "p3", "p8")]))
        self.assertEqual(self.query("-path=secret/*/payroll/"), [self.seq("p4")])
        self.assertEqual(self.query("-path=secret/data/payroll/2026-10"), [self.seq("p3")])
        self.assertEqual(self.query("-path=secret/data/payroll"), [])
        noise = self.expect(lambda e: e["request"]["path"] == "secret/data/app/svc-7")
        self.assertEqual(len(noise), 15)
        self.assertEqual(self.query("-path=*/app/svc-7"), noise)

    def test_since_and_until(self):
        p1 = self.seq("p1")
        # Inclusive bounds, to the nanosecond, also within one second of the bound.
        self.assertIn(p1, self.query("-since=2026-11-10T09:00:00.5Z",
                                     "-until=2026-11-10T09:00:00.5Z"))
        self.assertEqual(self.query("-since=2026-11-10T09:00:00.5Z",
                                    "-until=2026-11-10T09:00:00.5Z"), [p1])
        self.assertEqual(self.query("-since=2026-11-10T09:00:00.500000001Z",
                                    "-until=2026-11-10T09:00:01Z"), [])
        self.assertEqual(self.query("-since=2026-11-10T09:00:00Z",
                                    "-until=2026-11-10T09:00:00.499Z"), [])
        # The same instant with an offset.
        self.assertEqual(self.query("-since=2026-11-10T10:00:00.5+01:00",
                                    "-until=2026-11-10T04:00:00.5-05:00"), [p1])
        # A range against the ground truth.
        lo = (int(utc(2026, 11, 10, 9).timestamp()), 0)
        hi = (int(utc(2026, 11, 15).timestamp()), 0)

        def key(e):
            t = e["time"]
            dt = datetime.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=datetime.timezone.utc)
            frac = t[19:-1]
            nanos = int((frac[1:] + "000000000")[:9]) if frac else 0
            return (int(dt.timestamp()), nanos)

        expected = self.expect(lambda e: lo <= key(e) <= hi)
        self.assertGreater(len(expected), 200)
        self.assertEqual(self.query("-since=2026-11-10T09:00:00Z", "-until=2026-11-15"),
                         expected)
        self.assertIn(self.seq("p5"), expected)  # exactly at the until bound
        # p3 is one nanosecond before midnight.
        self.assertIn(self.seq("p3"), self.query("-until=2026-11-12T23:59:59.999999999Z",
                                                 "-path=*payroll*"))
        self.assertNotIn(self.seq("p3"), self.query("-since=2026-11-13", "-path=*payroll*"))

    def test_since_ignores_a_nested_time_key(self):
        # p8's auth metadata holds "time":"2020-01-01T00:00:00Z" before the entry's own time.
        self.assertEqual(self.query("-since=2026-11-18T06:30:00Z", "-entity=ent-mallory"),
                         [self.seq("p8")])
        self.assertEqual(self.query("-until=2021-01-01", "-entity=ent-mallory"), [])

    def test_relative_times(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        records = [
            Record(now - datetime.timedelta(hours=1), 0, "read", "secret/data/recent/a", ALICE),
            Record(now - datetime.timedelta(hours=50), 0, "read", "secret/data/recent/b", ALICE),
            Record(now - datetime.timedelta(days=10), 0, "read", "secret/data/recent/c", ALICE),
        ]
        lines, _, _ = chain(entries_of(records))
        path = self.write_log(lines)
        self.assertEqual(self.query("-since=24h", path=path), [6])
        self.assertEqual(self.query("-since=3d", path=path), [4, 6])
        self.assertEqual(self.query("-since=90m", path=path), [6])
        self.assertEqual(self.query("-since=30d", path=path), [2, 4, 6])
        self.assertEqual(self.query("-until=2d", path=path), [2, 4])
        self.assertEqual(self.query("-since=7d", "-until=24h", path=path), [4])

    def test_operation(self):
        self.assertEqual(self.query("-operation=delete"), [self.seq("p6")])
        self.assertEqual(self.query("-operation=DELETE"), [self.seq("p6")])
        self.assertEqual(self.query("-operation=read", "-path=secret/data/payroll/*"),
                         sorted([self.seq(n) for n in ("p2", "p3", "p8")]))
        updates = self.expect(lambda e: e["request"]["operation"] == "update")
        self.assertEqual(len(updates), 123 + 1)  # noise updates + p1
        self.assertEqual(self.query("-operation=update"), updates)

    def test_status_denied_and_ok(self):
        denied = self.expect(lambda e: "permission denied" in e.get("error", ""))
        self.assertEqual(len(denied), 22 + 1)  # noise i % 47 == 5, plus p3
        self.assertIn(self.seq("p3"), denied)
        self.assertEqual(self.query("-status=denied"), denied)
        self.assertEqual(self.query("-status=denied", "-path=*payroll*"), [self.seq("p3")])
        self.assertEqual(self.query("-status=denied", "-type=request", "-path=*payroll*"),
                         [self.seq("p3", "request")])
        ok = self.expect(lambda e: "error" not in e and e["response"]["status_code"] < 400)
        self.assertEqual(len(ok), 1008 - 23 - 17)  # all responses - denied - 404s
        self.assertEqual(self.query("-status=ok"), ok)

    def test_intent(self):
        self.assertEqual(self.query("-intent=payroll"), [self.seq("p1"), self.seq("p4")])
        self.assertEqual(self.query("-intent=chg-1234"), [self.seq("p1")])
        self.assertEqual(self.query("-intent=CHG-1234 PAYROLL FIX"), [self.seq("p1")])
        self.assertEqual(self.query("-intent=no such change"), [])
        deploys = self.expect(lambda e: "deploy 99" in e["request"]["intent"])
        self.assertEqual(len(deploys), 5)  # deploy 99, 990, 993, 996, 999
        self.assertEqual(self.query("-intent=DEPLOY 99"), deploys)

    def test_entity_and_type(self):
        self.assertEqual(self.query("-entity=ent-bob"), [self.seq("p2")])
        self.assertEqual(self.query("-entity=ent-bob", "-type=request"),
                         [self.seq("p2", "request")])
        self.assertEqual(self.query("-entity=ent-bob", "-type=all"),
                         [self.seq("p2", "request"), self.seq("p2")])
        self.assertEqual(self.query("-entity=ent-nobody"), [])
        self.assertEqual(self.query("-entity=ent-alice"), [self.seq("p1"), self.seq("p4")])
        everything = self.query("-type=all")
        self.assertEqual(everything, list(range(1, len(self.lines) + 1)))
        self.assertEqual(len(self.query()), 1008)
        self.assertEqual(len(self.query("-type=request")), 1008)

    def test_accessor_hmac_given_directly(self):
        # alice's accessor as auth.accessor (p1, p4), or as the request's accessor (p7).
        self.assertEqual(self.query("-accessor=" + ALICE["accessor"]),
                         [self.seq("p1"), self.seq("p4"), self.seq("p7")])
        self.assertEqual(self.query("-accessor=hmac-sha256:" + "0" * 64), [])

    def test_hash_hmac_given_directly(self):
        # In response.data (p2), nested in a list (p5); p1 has it in request.data only.
        self.assertEqual(self.query("-hash=" + SALARY), [self.seq("p2"), self.seq("p5")])
        self.assertEqual(self.query("-hash=" + SALARY, "-type=request"), [])
        self.assertEqual(self.query("-hash=" + hmac_of("nothing")), [])

    def test_values_needing_the_server_fail_without_one_and_are_not_echoed(self):
        secret = "s3cret-value-" + uuid.uuid4().hex
        for flag in ("-hash", "-accessor"):
            with self.subTest(flag=flag):
                p = self.coffer("audit", "query", flag, secret, self.path)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertNotIn(secret, p.stdout + p.stderr)
                self.assertIn("audit-hash", p.stderr)

    def test_limit(self):
        everything = self.query("-path=secret/data/payroll*")
        self.assertEqual(self.query("-path=secret/data/payroll*", "-limit=2"), everything[:2])
        self.assertEqual(self.query("-limit=1"), [2])  # the first response entry

    def test_json_output_is_each_line_as_logged(self):
        p = self.coffer("audit", "query", "-format=json", "-path=secret/data/payroll/*",
                        self.path)
        self.assertEqual(p.returncode, 0, p.stderr)
        expected = [self.lines[s - 1] for s in sorted(
            [self.seq(n) for n in ("p1", "p2", "p3", "p6", "p8")])]
        self.assertEqual(p.stdout.splitlines(), expected)
        for line in p.stdout.splitlines():
            self.assertIsInstance(json.loads(line), dict)

    def test_table_output(self):
        p = self.coffer("audit", "query", "-path=secret/data/payroll/*", self.path)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = p.stdout.splitlines()
        self.assertEqual(len(rows), 2 + 5)
        self.assertEqual(rows[0].split(), ["TIME", "OPERATION", "PATH", "STATUS", "WHO",
                                           "INTENT", "REMOTE"])
        self.assertEqual(set(rows[1].replace(" ", "")), {"-"})
        p1, p2, p3, p6, p8 = rows[2:]
        self.assertEqual(p1.split()[:4], ["2026-11-10T09:00:00.5Z", "update",
                                          "secret/data/payroll/2026-11", "200"])
        self.assertIn("alice (ent-alice)", p1)
        self.assertIn("CHG-1234 Payroll fix", p1)
        self.assertTrue(p1.endswith("192.0.2.10"), p1)
        self.assertEqual(p3.split()[3], "denied")
        self.assertIn("mallory (ent-mallory)", p3)
        self.assertIn("n/a", p2)  # bob's empty intent
        self.assertIn("salary check", p8)
        self.assertEqual(p6.split()[1], "delete")
        # Columns line up: every cell of a column starts at the header's offset.
        offset = rows[0].index("PATH")
        for row in rows[2:]:
            self.assertEqual(row[offset:offset + len("secret/")], "secret/", row)

    def test_no_match_says_so_on_stderr(self):
        p = self.coffer("audit", "query", "-path=nothing/*", self.path)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, "")
        self.assertIn("No matching entries", p.stderr)

    def test_event_rows(self):
        p = self.coffer("audit", "query", "-type=all", "-until=2026-11-08T00:00:00Z",
                        "-since=2026-11-08T00:00:00Z", self.path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[2].split()[:2],
                         ["2026-11-08T00:00:00Z", "event:seal"])

    def test_torn_lines_are_skipped(self):
        lines = list(self.lines[:10]) + ['{"chain":{"seq":11,"prev":"ab'] + list(self.lines[10:20])
        path = self.write_log(lines)
        self.assertEqual(len(self.query("-type=all", path=path)), 20)

    def test_usage_errors(self):
        for args in (["-status=maybe"], ["-type=event"], ["-since=yesterday"],
                     ["-until=2026-13-01"], ["-limit=-1"], ["-limit=x"], ["-no-such-flag"]):
            with self.subTest(args=args):
                p = self.coffer("audit", "query", *args, self.path)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertEqual(p.stdout, "")
        p = self.coffer("audit", "query", os.path.join(self.tmp, "missing.log"))
        self.assertEqual(p.returncode, 1)
        p = self.coffer("audit", "query")
        self.assertEqual(p.returncode, 1)

    def test_several_files_in_order(self):
        first = self.write_log(self.lines[:1000])
        second = self.write_log(self.lines[1000:])
        p = self.coffer("audit", "query", "-format=json", "-path=secret/data/payroll*",
                        first, second)
        self.assertEqual(p.returncode, 0, p.stderr)
        seqs = [json.loads(line)["chain"]["seq"] for line in p.stdout.splitlines()]
        self.assertEqual(seqs, self.query("-path=secret/data/payroll*"))


# --------------------------------------------------------------------------------------------
# A real server's log


@h.require_binary
class ServerLogTest(AuditCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = "e2e-root-" + uuid.uuid4().hex
        # A dev server that lets the API enable a file device (refused by default).
        cert_dir = os.path.join(cls.tmp, "dev-certs")
        cls.server = h.CofferServer(
            ["server", "-dev", "-dev-root-token-id=" + cls.token,
             "-dev-listen-address=127.0.0.1:0", "-dev-tls-cert-dir=" + cert_dir,
             "-dev-unsafe-allow-api-audit-creation"],
            cls.tmp, ca=os.path.join(cert_dir, "ca.pem"), name="coffer-dev")
        cls.addClassCleanup(cls.server.kill)
        try:
            cls.server.start()
        except RuntimeError as e:
            raise unittest.SkipTest("this server has no API audit devices yet: %s"
                                    % str(e)[-200:])
        cls.env = dict(cls.env, VAULT_ADDR=cls.server.url, VAULT_CACERT=cls.server.ca,
                       VAULT_TOKEN=cls.token)
        cls.log = os.path.join(cls.tmp, "audit.log")

    def test_enable_write_verify_query(self):
        p = self.coffer("audit", "enable", "file", "file_path=" + self.log)
        if p.returncode != 0 and ("unsupported path" in p.stderr or "Code: 404" in p.stderr
                                  or "Code: 405" in p.stderr):
            self.skipTest("this server has no audit devices yet: " + p.stderr.strip()[-200:])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "Success! Enabled the file audit device at: file/\n")
        p = self.coffer("audit", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0].split(), ["Path", "Type", "Description"])
        self.assertEqual(p.stdout.splitlines()[2].split()[:2], ["file/", "file"])

        value = "payroll-secret-" + uuid.uuid4().hex
        r = self.server.request("POST", "secret/data/payroll/e2e", token=self.token,
                                json={"data": {"salary": value}},
                                headers={"X-Coffer-Intent": "CHG-42 e2e"})
        self.assertEqual(r.status_code, 200, r.text)
        r = self.server.request("GET", "secret/data/payroll/e2e", token=self.token)
        self.assertEqual(r.status_code, 200, r.text)
        r = self.server.request("GET", "secret/data/payroll/e2e", token="not-a-token")
        self.assertEqual(r.status_code, 403)

        with open(self.log, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(value, text)
        p = self.coffer("audit", "verify", self.log)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"^%s: intact, \d+ entries\n$" % self.log)

        seqs = lambda p: [json.loads(l)["chain"]["seq"] for l in p.stdout.splitlines()]  # noqa
        p = self.coffer("audit", "query", "-format=json", "-path=secret/data/payroll/*",
                        "-operation=read", "-status=ok", self.log)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(seqs(p)), 1)
        # The server hashes the clear value with the device's key; the read's response holds it.
        p = self.coffer("audit", "query", "-format=json", "-hash=-", self.log, input=value)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(seqs(p)), 1)
        self.assertNotIn(value, p.stdout + p.stderr)
        p = self.coffer("audit", "query", "-format=json", "-intent=chg-42", self.log)
        self.assertEqual(len(seqs(p)), 1)

        p = self.coffer("audit", "disable", "file")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "Success! Disabled audit device (if it was enabled) at: file/\n")


if __name__ == "__main__":
    unittest.main()
