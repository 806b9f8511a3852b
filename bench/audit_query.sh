#!/usr/bin/env bash
# audit_query.sh: how fast the offline audit log tools read, in MB/s of log:
#   1. coffer audit query -format=json -path='secret/data/payroll*' -since=<7 days ago>
#      on a ~1 GB log: a selective search (about one line in a thousand matches),
#      which the substring prefilter answers without parsing most lines.
#      Target: >= 200 MB/s.
#   2. coffer audit verify on a ~256 MB chain-valid log: SHA-256 of every line plus
#      the sequence and link checks.
#
# The logs are synthetic but shaped like a real file device's output: chained
# request/response entries (auth with policies and policy results, request with
# HMAC'd data, response with HMAC'd data), ~1.4 KB a line, times spread over the
# last 60 days in file order, 2 % of requests under secret/data/payroll/. A Python
# generator writes the 256 MB chain-valid log (verify's input); the query log is
# that file repeated (sequence numbers repeat, which query does not check). The
# generator also counts the entries the query must return, and the script stops
# if coffer returns another number. The "7 days ago" bound is fixed when the
# logs are generated, so that count is exact.
#
# Both commands read from the page cache (the files were just written), so this
# measures coffer's CPU cost, not the disk. Output goes to a file, not a terminal.
#
# Usage: bench/audit_query.sh [--record] [-h|--help]
#   --record      append a dated section to bench/RESULTS.md
# Environment:
#   COFFER_BIN     coffer binary, relative to the repo root (default build/coffer)
#   QUERY_MB       size of the query log in MB (default 1024)
#   VERIFY_MB      size of the chain-valid log in MB (default 256)
#   ROUNDS         runs of each command; the fastest is kept (default 2)
#   BENCH_CPUS     CPU list for taskset (default 0-1, or 0 on a 1-CPU machine)
#   TMPDIR         where the temporary directory (and so the logs) goes (default /tmp)
set -euo pipefail

bench_name=audit_query
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_parse_args "$@"

bench_init

query_mb="${QUERY_MB:-1024}"
verify_mb="${VERIFY_MB:-256}"
[[ "$query_mb" =~ ^[1-9][0-9]*$ ]] || die "QUERY_MB must be a positive integer, got '$query_mb'"
[[ "$verify_mb" =~ ^[1-9][0-9]*$ ]] || die "VERIFY_MB must be a positive integer, got '$verify_mb'"
query_target=200

# No server, no wrk: only the binary and python3 (bench_require_tools would ask for wrk).
coffer_bin="${COFFER_BIN:-build/coffer}"
[[ "$coffer_bin" == /* ]] || coffer_bin="$repo_root/$coffer_bin"
[[ -x "$coffer_bin" ]] || die "coffer binary not found or not executable: $coffer_bin (build it first, or set COFFER_BIN)"
python="$(command -v python3 || true)"
[[ -n "$python" ]] || die "python3 is required (to generate the logs)"

bench_pin
((${#pin[@]} == 0)) || pin_desc="coffer pinned to CPUs $cpus"
bench_make_work_dir

verify_log="$work_dir/verify.log"
query_log="$work_dir/query.log"
data_fs="$(df -PT "$work_dir" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 " (" $7 ")" }')"
[[ -n "$data_fs" ]] || data_fs="unknown filesystem"

# ------------------------------------------------------------------ logs ---

note "generating a ${verify_mb} MB chain-valid log"
gen_out="$("$python" - "$verify_log" "$verify_mb" <<'PYEOF'
import datetime, hashlib, json, random, sys

path, megabytes = sys.argv[1], int(sys.argv[2])
target = megabytes * 1000 * 1000
rng = random.Random(20261123)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
span = datetime.timedelta(days=60)
since = now - datetime.timedelta(days=7)

def hmac(text):
    return "hmac-sha256:" + hashlib.sha256(("bench:" + text).encode()).hexdigest()

users = [("svc-%d" % i, "ent-%04d" % i) for i in range(40)]
ops = ["read"] * 6 + ["update", "list", "create", "delete"]
templates = []  # (is_payroll, request inner JSON, response inner JSON), "__TIME__" to fill
for i in range(2000):
    name, entity = users[i % len(users)]
    payroll = i % 50 == 7
    op = ops[rng.randrange(len(ops))]
    req_path = ("secret/data/payroll/%d" % (i % 12)) if payroll else \
        ("secret/data/app/%s/%d" % (name, i % 30))
    auth = {"accessor": hmac("acc" + name), "client_token": hmac("tok" + name),
            "display_name": "approle-" + name, "entity_id": entity,
            "identity_kind": "service", "identity_policies": [],
            "metadata": {"role_name": name}, "policies": ["default", name],
            "policy_results": {"allowed": True, "granting_policies": [
                {"name": name, "namespace_id": "root", "type": "acl"}],
                "matched_pattern": "secret/data/app/%s/*" % name, "reason": ""},
            "token_policies": ["default", name], "token_type": "service"}
    request = {"client_token": auth["client_token"], "client_token_accessor": auth["accessor"],
               "id": "%08x-0000-4000-8000-%012x" % (i, rng.getrandbits(48)),
               "intent": "CHG-%d rollout" % (1000 + i) if i % 5 == 0 else "",
               "mount_point": "secret/", "mount_type": "kv", "namespace": {"id": "root"},
               "operation": op, "path": req_path, "remote_address": "10.1.%d.%d" % (i % 16, i % 200),
               "wrap_ttl": 0}
    if op in ("update", "create"):
        request["data"] = {"data": {"password": hmac("pw%d" % i), "user": hmac("u%d" % i)},
                           "options": {"cas": hmac("0")}}
    response = {"status_code": 200}
    if op == "read":
        response["data"] = {"data": {"password": hmac("pw%d" % i), "user": hmac("u%d" % i)},
                            "metadata": {"created_time": hmac("t%d" % i),
                                         "version": hmac("v%d" % i)}}
    req_entry = {"auth": auth, "request": request, "time": "__TIME__", "type": "request"}
    resp_entry = {"auth": auth, "request": request, "response": response, "time": "__TIME__",
                  "type": "response"}
    dump = lambda e: json.dumps(e, sort_keys=True, separators=(",", ":"))[1:-1]
    templates.append((payroll, dump(req_entry), dump(resp_entry)))

# Lines per request pair, from the average template size, to spread the times evenly.
avg = sum(len(a) + len(b) for _, a, b in templates) / len(templates) + 2 * 150
pairs = int(target / avg) + 1
step = span / pairs
seq, prev, written, expected, lines = 0, "", 0, 0, 0
with open(path, "w", buffering=8 << 20) as out:
    for k in range(pairs):
        payroll, req, resp = templates[k % len(templates)]
        when = now - span + step * k
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + "%09d" % (when.microsecond * 1000 + k % 1000) + "Z"
        if payroll and when >= since:
            expected += 1
        for inner in (req, resp):
            seq += 1
            body = '{"chain":{"seq":%d,"prev":"%s"},%s' % (seq, prev, inner.replace("__TIME__", stamp))
            prev = hashlib.sha256(body.encode()).hexdigest()
            line = body + ',"hash":"' + prev + '"}\n'
            out.write(line)
            written += len(line)
            lines += 1
        if written >= target:
            break
print(lines, written, expected, since.strftime("%Y-%m-%dT%H:%M:%SZ"))
PYEOF
)" || die "log generation failed"
read -r verify_lines verify_bytes verify_expected since_bound <<<"$gen_out"
[[ "$verify_lines" =~ ^[0-9]+$ && "$verify_expected" =~ ^[0-9]+$ ]] || die "generator said '$gen_out'"

copies=$(((query_mb + verify_mb - 1) / verify_mb))
note "building the ${query_mb} MB query log ($copies copies)"
: >"$query_log"
for ((i = 0; i < copies; i++)); do cat "$verify_log" >>"$query_log"; done
query_bytes="$(stat -c %s "$query_log")"
query_lines=$((verify_lines * copies))
query_expected=$((verify_expected * copies))
note "verify log: $verify_lines lines, $verify_bytes bytes; query log: $query_lines lines, $query_bytes bytes, $query_expected expected matches"

# ---------------------------------------------------------------- timing ---

# timed OUT_FILE CMD...: runs CMD (pinned) with stdout to OUT_FILE and stderr to
# OUT_FILE.err; sets run_seconds and run_rc.
timed() {
  local out="$1" start end
  shift
  start="$(date +%s%N)"
  run_rc=0
  "${pin[@]}" "$@" >"$out" 2>"$out.err" || run_rc=$?
  end="$(date +%s%N)"
  run_seconds="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
}

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }'; }

query_cmd=("$coffer_bin" audit query -format=json "-path=secret/data/payroll*" "-since=$since_bound" -stats "$query_log")
verify_cmd=("$coffer_bin" audit verify "$verify_log")
query_desc="coffer audit query -format=json -path='secret/data/payroll*' -since=$since_bound -stats <${query_mb} MB log>"
verify_desc="coffer audit verify <${verify_mb} MB log>"

# Page the files in once, untimed, so every round reads from memory.
cat "$verify_log" "$query_log" >/dev/null

note "$pin_desc"
best_query=0 best_query_s="" all_query=""
best_verify=0 best_verify_s="" all_verify=""
for ((r = 1; r <= rounds; r++)); do
  timed "$work_dir/query.out" "${query_cmd[@]}"
  if ((run_rc != 0)); then
    cat "$work_dir/query.out.err" >&2
    die "coffer audit query exited $run_rc"
  fi
  got="$(wc -l <"$work_dir/query.out")"
  ((got == query_expected)) || die "coffer audit query returned $got entries, expected $query_expected"
  rate="$(mbps "$query_bytes" "$run_seconds")"
  printf '  round %d  query   %8.3f s  %8.1f MB/s  (%d matches; %s)\n' "$r" "$run_seconds" "$rate" "$got" "$(tr -d '\n' <"$work_dir/query.out.err")" >&2
  all_query+="${all_query:+, }$rate"
  if gt "$rate" "$best_query"; then best_query="$rate" best_query_s="$run_seconds"; fi

  timed "$work_dir/verify.out" "${verify_cmd[@]}"
  if ((run_rc != 0)); then
    cat "$work_dir/verify.out" "$work_dir/verify.out.err" >&2
    die "coffer audit verify exited $run_rc on a valid log"
  fi
  grep -q ": intact, $verify_lines entries$" "$work_dir/verify.out" ||
    die "coffer audit verify said: $(cat "$work_dir/verify.out")"
  rate="$(mbps "$verify_bytes" "$run_seconds")"
  printf '  round %d  verify  %8.3f s  %8.1f MB/s\n' "$r" "$run_seconds" "$rate" >&2
  all_verify+="${all_verify:+, }$rate"
  if gt "$rate" "$best_verify"; then best_verify="$rate" best_verify_s="$run_seconds"; fi
done

# ----------------------------------------------------------------- report ---

if awk -v r="$best_query" -v t="$query_target" 'BEGIN { exit !(r >= t) }'; then
  query_verdict="met"
else
  query_verdict="not met"
fi
avg_line=$((verify_bytes / verify_lines))

echo
echo "Offline audit log tools, best of $rounds run(s) each; files in the page cache; $pin_desc"
printf '%-8s %12s %10s %10s\n' command bytes seconds "MB/s"
printf '%-8s %12s %10s %10s\n' query "$query_bytes" "$best_query_s" "$best_query"
printf '%-8s %12s %10s %10s\n' verify "$verify_bytes" "$best_verify_s" "$best_verify"
echo "query: $query_expected of $query_lines lines matched; target >= $query_target MB/s: $query_verdict"

if ((record)); then
  bench_results_file
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): audit log query and verify (offline, absolute)"
    echo
    echo "- script: \`bench/audit_query.sh\`"
    echo "- machine: $(bench_machine)"
    echo "- commit: $(bench_commit)"
    echo "- data: synthetic chained request/response entries, $avg_line bytes a line on average, times over 60 days, 2 % of requests under \`secret/data/payroll/\`; verify: $verify_lines lines ($verify_bytes bytes, chain-valid); query: $copies copies of it, $query_lines lines ($query_bytes bytes), $query_expected matches (checked)"
    echo "- commands: \`$query_desc\` (the -since bound is 7 days before generation), \`$verify_desc\`; $rounds round(s), best of each"
    echo "- setup: $pin_desc; logs on $data_fs, read from the page cache; stdout to a file"
    echo
    echo "| command | bytes | seconds | MB/s | all rounds (MB/s) |"
    echo "|---|---:|---:|---:|---|"
    echo "| query | $query_bytes | $best_query_s | $best_query | $all_query |"
    echo "| verify | $verify_bytes | $best_verify_s | $best_verify | $all_verify |"
    echo
    echo "query: **$best_query MB/s** (target ≥ $query_target MB/s: $query_verdict); verify: **$best_verify MB/s**"
  } >>"$results"
  echo "recorded in ${results#"$repo_root"/}"
fi
