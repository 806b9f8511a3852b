#!/usr/bin/env bash
# kv_read_vs_nginx.sh: throughput and p99 of authenticated KV v2 reads
# (GET /v1/secret/data/bench/kNNNN with X-Vault-Token, 1,000 distinct
# secrets in rotation) compared with nginx serving a byte-identical copy of
# one such response for the same paths, over the same TLS certificate,
# measured in the same run on the same CPUs.
#
# Targets (from the issue): coffer at least 50 % of nginx's req/s, coffer p99
# below 5 ms. The script prints whether each is met; it does not fail on them.
#
# Usage: bench/kv_read_vs_nginx.sh [--record] [-h|--help]
#   --record      append a dated section to bench/RESULTS.md
# Environment:
#   COFFER_BIN     coffer binary, relative to the repo root (default build/coffer)
#   DURATION       wrk duration per run (default 10s)
#   ROUNDS         rounds; each round runs nginx then coffer (default 2)
#   BENCH_CPUS     CPU list for taskset, shared by both servers and wrk
#                  (default 0-1, or 0 on a 1-CPU machine)
#   NGINX_WORKERS  nginx worker_processes (default 2 = coffer's io threads on
#                  the 2-core reference machine)
#   AUDIT          1 = each round also runs coffer with one file audit device
#                  enabled (log in the temporary directory, emptied between
#                  rounds) and reports the audit overhead: the issue's target
#                  is at most 15 % fewer requests/s than without a device
set -euo pipefail

bench_name=kv_read_vs_nginx
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_parse_args "$@"

bench_init

nkeys=1000
value_bytes=200
key_prefix="/v1/secret/data/bench/k"
lua_script="$script_dir/kv_read.lua"
[[ -r "$lua_script" ]] || die "missing $lua_script"

audit="${AUDIT:-0}"
[[ "$audit" == 0 || "$audit" == 1 ]] || die "AUDIT must be 0 or 1, got '$audit'"
((audit)) && coffer_extra_args=(-dev-unsafe-allow-api-audit-creation)

bench_require_tools 1
bench_pin
bench_make_work_dir

# ----------------------------------------------------------------- coffer ---

note "starting coffer ($coffer_bin)"
start_coffer
check_certs
coffer_url="https://127.0.0.1:$coffer_port"

# curl_batch CONFIG: runs every transfer in a curl config file (-K) in one
# curl process, so that the connection is reused; prints one write-out line
# per transfer.
curl_batch() {
  curl -K "$1" || die "curl failed running $1"
}

# Preload: one curl config with nkeys POSTs, values of value_bytes bytes that
# differ from key to key ("kNNNN-" then pseudo-random letters and digits).
note "writing $nkeys secrets of $value_bytes bytes (${key_prefix#/v1/}0000..$(printf 'k%04d' $((nkeys - 1))), not timed)"
awk -v n="$nkeys" -v len="$value_bytes" -v base="$coffer_url$key_prefix" \
  -v ca="$cert_dir/ca.pem" -v token="$bench_root_token" 'BEGIN {
    srand(20261123)
    chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for (i = 0; i < n; i++) {
      v = sprintf("k%04d-", i)
      while (length(v) < len) v = v substr(chars, 1 + int(rand() * 62), 1)
      if (i > 0) print "next"
      printf "url = \"%s%04d\"\n", base, i
      printf "cacert = \"%s\"\n", ca
      printf "header = \"X-Vault-Token: %s\"\n", token
      printf "header = \"Content-Type: application/json\"\n"
      printf "data = \"{\\\"data\\\":{\\\"v\\\":\\\"%s\\\"}}\"\n", v
      printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\nsilent\nshow-error\n"
    }
  }' >"$work_dir/write.curl"
curl_batch "$work_dir/write.curl" >"$work_dir/write.codes"
ok="$(grep -c '^200$' "$work_dir/write.codes" || true)"
((ok == nkeys)) || {
  sort "$work_dir/write.codes" | uniq -c >&2
  die "only $ok of $nkeys KV writes answered 200"
}

# Read every key once, not timed: all must answer 200 before any load, and the
# response sizes show how close nginx's single copy is to each of them.
awk -v n="$nkeys" -v base="$coffer_url$key_prefix" -v ca="$cert_dir/ca.pem" \
  -v token="$bench_root_token" 'BEGIN {
    for (i = 0; i < n; i++) {
      if (i > 0) print "next"
      printf "url = \"%s%04d\"\ncacert = \"%s\"\n", base, i, ca
      printf "header = \"X-Vault-Token: %s\"\n", token
      printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code} %%{size_download}\\n\"\nsilent\nshow-error\n"
    }
  }' >"$work_dir/read.curl"
curl_batch "$work_dir/read.curl" >"$work_dir/read.codes"
ok="$(awk '$1 == 200' "$work_dir/read.codes" | wc -l)"
((ok == nkeys)) || {
  awk '{ print $1 }' "$work_dir/read.codes" | sort | uniq -c >&2
  die "only $ok of $nkeys KV reads answered 200"
}
read -r size_min size_max < <(awk 'NR == 1 { lo = hi = $2 } { if ($2 < lo) lo = $2; if ($2 > hi) hi = $2 } END { print lo, hi }' "$work_dir/read.codes")

body_file="$body_dir/kv.json"
curl -sS --fail --max-time 5 --cacert "$cert_dir/ca.pem" -H "X-Vault-Token: $bench_root_token" \
  -D "$work_dir/coffer.headers" -o "$body_file" "${coffer_url}${key_prefix}0000" ||
  die "could not read ${key_prefix}0000 from coffer"
grep -q '"data":{"data":{"v":"k0000-' "$body_file" || die "coffer's response for k0000 does not hold the value written"
grep -qi '^content-type: application/json' "$work_dir/coffer.headers" || note "warning: coffer Content-Type is not application/json"
grep -qi '^cache-control: no-store' "$work_dir/coffer.headers" || note "warning: coffer lacks Cache-Control: no-store"
body_size="$(wc -c <"$body_file")"
note "coffer ready on 127.0.0.1:$coffer_port ($nkeys secrets; responses $size_min..$size_max bytes, nginx copy $body_size bytes)"

# ------------------------------------------------------------------ nginx ---

# Every path under bench/ gets the same file: the copy of coffer's k0000 response.
nginx_locations="        location ${key_prefix%k} {
            root $body_dir;
            rewrite ^ /kv.json break;
            add_header Cache-Control no-store always;
        }"

note "starting nginx ($nginx_bin, $nginx_workers workers)"
start_nginx "${key_prefix}0000"

curl -sS --fail --max-time 5 --cacert "$cert_dir/ca.pem" -H "X-Vault-Token: $bench_root_token" \
  -D "$work_dir/nginx.headers" -o "$work_dir/nginx.body" \
  "https://127.0.0.1:$nginx_port$(printf '%s%04d' "$key_prefix" $((nkeys - 1)))" || die "could not fetch the body from nginx"
cmp -s "$body_file" "$work_dir/nginx.body" || die "nginx serves a different body than coffer"
grep -qi '^content-type: application/json' "$work_dir/nginx.headers" || die "nginx Content-Type is not application/json"
grep -qi '^cache-control: no-store' "$work_dir/nginx.headers" || die "nginx lacks Cache-Control: no-store"
note "nginx ready on 127.0.0.1:$nginx_port"

# -------------------------------------------------------------------- wrk ---

lua_args=("$bench_root_token" "$nkeys" "$key_prefix")
wrk_cmd_desc="wrk -t$wrk_threads -c$wrk_connections -d$duration --latency -s bench/kv_read.lua https://127.0.0.1:<port> -- <token> $nkeys $key_prefix"

best_nginx_rps=0 best_nginx_p99=""
best_coffer_rps=0 best_coffer_p99=""
best_audit_rps=0 best_audit_p99=""
audit_log="$work_dir/audit.log"
# audit_device PUT|DELETE: enables or disables the file device (root token).
audit_device() {
  local code
  code="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$cert_dir/ca.pem" \
    -H "X-Vault-Token: $bench_root_token" -X "$1" \
    -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$audit_log\"}}" \
    "$coffer_url/v1/sys/audit/bench")"
  [[ "$code" == 204 ]] || die "audit device $1 answered $code"
}
note "$pin_desc"
note "$rounds round(s) of: nginx then coffer, $wrk_cmd_desc"
for ((r = 1; r <= rounds; r++)); do
  run_wrk nginx "https://127.0.0.1:$nginx_port" "$lua_script" "${lua_args[@]}"
  printf '  round %d  nginx   %12.2f req/s  p99 %s\n' "$r" "$run_rps" "$run_p99" >&2
  if gt "$run_rps" "$best_nginx_rps"; then best_nginx_rps="$run_rps" best_nginx_p99="$run_p99"; fi
  run_wrk coffer "$coffer_url" "$lua_script" "${lua_args[@]}"
  printf '  round %d  coffer  %12.2f req/s  p99 %s\n' "$r" "$run_rps" "$run_p99" >&2
  if gt "$run_rps" "$best_coffer_rps"; then best_coffer_rps="$run_rps" best_coffer_p99="$run_p99"; fi
  if ((audit)); then
    audit_device PUT
    run_wrk coffer-audit "$coffer_url" "$lua_script" "${lua_args[@]}"
    audit_device DELETE
    lines="$(wc -l <"$audit_log")"
    rm -f "$audit_log"
    printf '  round %d  coffer+audit %7.2f req/s  p99 %s  (%s log lines)\n' "$r" "$run_rps" "$run_p99" "$lines" >&2
    if gt "$run_rps" "$best_audit_rps"; then best_audit_rps="$run_rps" best_audit_p99="$run_p99"; fi
  fi
done

# ----------------------------------------------------------------- report ---

ratio="$(awk -v c="$best_coffer_rps" -v n="$best_nginx_rps" 'BEGIN { printf "%.1f", 100 * c / n }')"
p99_ms="$(to_ms "$best_coffer_p99")"
ratio_verdict="not met"
awk -v r="$ratio" 'BEGIN { exit !(r >= 50) }' && ratio_verdict="met"
p99_verdict="not met"
awk -v p="$p99_ms" 'BEGIN { exit !(p < 5) }' && p99_verdict="met"

echo
echo "GET /v1/secret/data/bench/kNNNN ($nkeys KV v2 secrets, X-Vault-Token) over TLS, best of $rounds alternating run(s) each (highest req/s; p99 is from that run)"
echo "$pin_desc; nginx worker_processes $nginx_workers; nginx serves one $body_size-byte copy (coffer: $size_min..$size_max bytes)"
printf '%-8s %14s %12s\n' server "req/s" "p99"
printf '%-8s %14.2f %12s\n' nginx "$best_nginx_rps" "$best_nginx_p99"
printf '%-8s %14.2f %12s\n' coffer "$best_coffer_rps" "$best_coffer_p99"
echo "coffer/nginx: ${ratio} %"
echo "target coffer/nginx >= 50 %: $ratio_verdict; target coffer p99 < 5 ms: $p99_verdict"
if ((audit)); then
  overhead="$(awk -v a="$best_audit_rps" -v c="$best_coffer_rps" 'BEGIN { printf "%.1f", 100 * (1 - a / c) }')"
  audit_verdict="not met"
  awk -v o="$overhead" 'BEGIN { exit !(o <= 15) }' && audit_verdict="met"
  printf '%-8s %14.2f %12s\n' "+audit" "$best_audit_rps" "$best_audit_p99"
  echo "one file audit device: ${overhead} % fewer req/s (target <= 15 %: $audit_verdict)"
fi

if ((record)); then
  bench_results_file
  nginx_version="$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): KV v2 read vs nginx"
    echo
    echo "- script: \`bench/kv_read_vs_nginx.sh\`"
    echo "- machine: $(bench_machine)"
    echo "- commit: $(bench_commit)"
    echo "- command: \`$wrk_cmd_desc\`, $rounds alternating round(s) (nginx then coffer), best of each by req/s"
    echo "- data: $nkeys KV v2 secrets (\`secret/data/bench/k0000\`..), $value_bytes-byte value each, read in rotation with the root token; coffer responses $size_min..$size_max bytes, nginx serves a $body_size-byte copy of coffer's k0000 response for every path"
    echo "- setup: $pin_desc; nginx $nginx_version with worker_processes $nginx_workers, same cert/key as coffer, TLSv1.2+1.3, keep-alive"
    echo
    echo "| server | req/s | p99 |"
    echo "|---|---:|---:|"
    printf '| nginx | %.2f | %s |\n' "$best_nginx_rps" "$best_nginx_p99"
    printf '| coffer | %.2f | %s |\n' "$best_coffer_rps" "$best_coffer_p99"
    ((audit)) && printf '| coffer + one file audit device | %.2f | %s |\n' "$best_audit_rps" "$best_audit_p99"
    echo
    echo "coffer/nginx: **${ratio} %** (target ≥ 50 %: $ratio_verdict); coffer p99 $best_coffer_p99 (target < 5 ms: $p99_verdict)"
    if ((audit)); then
      echo
      echo "audit overhead (one file device, log on the same disk, every value HMAC'd, hash-chained): **${overhead} %** fewer req/s (target ≤ 15 %: $audit_verdict)"
    fi
  } >>"$results"
  echo "recorded in ${results#"$repo_root"/}"
fi
