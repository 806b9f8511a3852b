#!/usr/bin/env bash
# kv_write.sh: durable write throughput of coffer, in absolute figures:
#   1. KV v2 writes: POST /v1/secret/data/wbench/<n> {"data":{"v":"<200 bytes>"}},
#      a different key for every request (each is a create), 32 concurrent
#      clients; reports writes/s and p99. Target (from the issue): >= 5,000/s.
#   2. Token creation: POST /v1/auth/token/create
#      {"policies":["default"],"ttl":"1h"} with the root token, 32 concurrent
#      clients; reports tokens/s and p99.
#
# Every acknowledged write is on disk: coffer's RocksDB backend syncs its
# write-ahead log before answering, and concurrent writers share one fsync. So
# these figures depend on the disk (and its filesystem) as much as on the CPU.
# There is no nginx ceiling here: nginx has nothing equivalent to a durable
# write. The figures are absolute and are recorded with the machine line and
# the filesystem of the data directory.
#
# Usage: bench/kv_write.sh [--record] [-h|--help]
#   --record      append a dated section to bench/RESULTS.md
# Environment:
#   COFFER_BIN     coffer binary, relative to the repo root (default build/coffer)
#   DURATION       wrk duration per run (default 10s)
#   ROUNDS         rounds; each round runs the KV writes then the token
#                  creation (default 2); the best run of each is kept
#   BENCH_CPUS     CPU list for taskset, shared by coffer and wrk
#                  (default 0-1, or 0 on a 1-CPU machine)
#   TMPDIR         where the temporary directory (and so coffer's RocksDB data
#                  directory) is created (default /tmp)
set -euo pipefail

bench_name=kv_write
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_parse_args "$@"

bench_init

write_prefix="/v1/secret/data/wbench/"
write_lua="$script_dir/kv_write.lua"
token_lua="$script_dir/token_create.lua"
[[ -r "$write_lua" ]] || die "missing $write_lua"
[[ -r "$token_lua" ]] || die "missing $token_lua"
write_target=5000

bench_require_tools 0
pin_what="coffer and wrk"
bench_pin
bench_make_work_dir

# ----------------------------------------------------------------- coffer ---

note "starting coffer ($coffer_bin)"
start_coffer
check_certs
coffer_url="https://127.0.0.1:$coffer_port"
data_fs="$(df -PT "$work_dir" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 " (" $7 ")" }')"
[[ -n "$data_fs" ]] || data_fs="unknown filesystem"

# api METHOD PATH [BODY]: one request with the root token; prints the body,
# fails unless the status is 200.
api() {
  local args=(-sS --max-time 10 --cacert "$cert_dir/ca.pem" -H "X-Vault-Token: $bench_root_token"
    -X "$1" -o "$work_dir/api.body" -w '%{http_code}')
  [[ $# -lt 3 ]] || args+=(-H "Content-Type: application/json" --data-binary "$3")
  local code
  code="$(curl "${args[@]}" "$coffer_url$2")" || die "curl $1 $2 failed"
  [[ "$code" == 200 ]] || {
    cat "$work_dir/api.body" >&2
    echo >&2
    die "$1 $2 answered $code, expected 200"
  }
  cat "$work_dir/api.body"
}

# The same requests the Lua scripts send, once each, checked by hand.
value="$(printf '%0200d' 0 | tr 0 v)"
api POST "${write_prefix}0" "{\"data\":{\"v\":\"$value\"}}" | grep -q '"version":1' ||
  die "a KV v2 write did not answer with version 1"
api GET "${write_prefix}0" | grep -q "\"v\":\"$value\"" || die "a KV v2 write did not read back"
api POST /v1/auth/token/create '{"policies":["default"],"ttl":"1h"}' | grep -q '"client_token":"' ||
  die "token creation did not return a client_token"
note "coffer ready on 127.0.0.1:$coffer_port (data directory: $data_fs)"

# -------------------------------------------------------------------- wrk ---

write_cmd_desc="wrk -t$wrk_threads -c$wrk_connections -d$duration --latency -s bench/kv_write.lua https://127.0.0.1:<port> -- <token> $wrk_threads <base> $write_prefix"
token_cmd_desc="wrk -t$wrk_threads -c$wrk_connections -d$duration --latency -s bench/token_create.lua https://127.0.0.1:<port> -- <token>"

best_write_rps=0 best_write_p99="" all_writes=""
best_token_rps=0 best_token_p99="" all_tokens=""
note "$pin_desc"
note "$rounds round(s) of: KV writes ($write_cmd_desc), then token creation ($token_cmd_desc)"
for ((r = 1; r <= rounds; r++)); do
  # A fresh key range per round, so that every request of every run is a create.
  base=$((r * 100000000))
  run_wrk "coffer (KV writes)" "$coffer_url" "$write_lua" "$bench_root_token" "$wrk_threads" "$base" "$write_prefix"
  printf '  round %d  KV writes       %12.2f /s  p99 %s\n' "$r" "$run_rps" "$run_p99" >&2
  all_writes+="${all_writes:+, }$(printf '%.0f' "$run_rps")"
  if gt "$run_rps" "$best_write_rps"; then best_write_rps="$run_rps" best_write_p99="$run_p99"; fi
  # The second key of each thread must be there, with the value the script
  # sent. (Not the first: wrk calls request() once on thread 0 to check the
  # script and discards that request, so key base+0 is never written.)
  for ((t = 0; t < wrk_threads; t++)); do
    key="$write_prefix$((base + wrk_threads + t))"
    api GET "$key" | grep -q '"v":"0123456789abcdefghij' || die "key $key written by wrk does not read back"
  done

  run_wrk "coffer (token create)" "$coffer_url" "$token_lua" "$bench_root_token"
  printf '  round %d  token create    %12.2f /s  p99 %s\n' "$r" "$run_rps" "$run_p99" >&2
  all_tokens+="${all_tokens:+, }$(printf '%.0f' "$run_rps")"
  if gt "$run_rps" "$best_token_rps"; then best_token_rps="$run_rps" best_token_p99="$run_p99"; fi
done

# ----------------------------------------------------------------- report ---

if awk -v r="$best_write_rps" -v t="$write_target" 'BEGIN { exit !(r >= t) }'; then
  write_verdict="met"
else
  write_verdict="not met"
fi

echo
echo "Durable writes over TLS, $wrk_connections concurrent clients, best of $rounds run(s) each (highest rate; p99 is from that run)"
echo "$pin_desc; coffer data directory on $data_fs; no nginx ceiling (nothing equivalent)"
printf '%-14s %14s %12s\n' operation "per second" "p99"
printf '%-14s %14.2f %12s\n' "KV v2 write" "$best_write_rps" "$best_write_p99"
printf '%-14s %14.2f %12s\n' "token create" "$best_token_rps" "$best_token_p99"
echo "target KV v2 writes >= $write_target/s: $write_verdict"

if ((record)); then
  bench_results_file
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): KV v2 writes and token creation (absolute, no ceiling)"
    echo
    echo "- script: \`bench/kv_write.sh\`"
    echo "- machine: $(bench_machine)"
    echo "- commit: $(bench_commit)"
    echo "- commands: \`$write_cmd_desc\` (a new key per request: every write creates version 1 of a 200-byte secret), then \`$token_cmd_desc\` (\`{\"policies\":[\"default\"],\"ttl\":\"1h\"}\` with the root token); $rounds round(s), best of each by rate"
    echo "- setup: $pin_desc; coffer -dev, RocksDB data directory on $data_fs, WAL synced before every acknowledgement"
    echo "- no nginx ceiling: nginx has no equivalent of a durable write, so these figures are absolute and only comparable on the same machine and disk"
    echo
    echo "| operation | per second | p99 | all rounds (/s) |"
    echo "|---|---:|---:|---|"
    printf '| KV v2 write | %.2f | %s | %s |\n' "$best_write_rps" "$best_write_p99" "$all_writes"
    printf '| token create | %.2f | %s | %s |\n' "$best_token_rps" "$best_token_p99" "$all_tokens"
    echo
    echo "KV v2 writes: **$(printf '%.0f' "$best_write_rps")/s** (target ≥ $write_target/s: $write_verdict)"
  } >>"$results"
  echo "recorded in ${results#"$repo_root"/}"
fi
