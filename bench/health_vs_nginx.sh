#!/usr/bin/env bash
# health_vs_nginx.sh: throughput of coffer's GET /v1/sys/health compared with
# nginx serving the same bytes over the same TLS certificate, measured in the
# same run on the same CPUs.
#
# nginx is the ceiling: a tuned C server that parses HTTP/1.1 and writes a
# static file over TLS. The figure that matters is the ratio coffer/nginx,
# because absolute numbers depend on the machine (and, on a 2-core box, on wrk
# competing with the server for the same cores).
#
# Usage: bench/health_vs_nginx.sh [--record] [--nginx-only] [-h|--help]
#   --record      append a dated section to bench/RESULTS.md
#   --nginx-only  harness self-check without coffer: makes a throwaway EC cert
#                 with openssl and a sample body, benchmarks nginx only
#                 (cannot be combined with --record)
# Environment:
#   COFFER_BIN     coffer binary, relative to the repo root (default build/coffer)
#   DURATION       wrk duration per run (default 10s)
#   ROUNDS         rounds; each round runs nginx then coffer (default 2)
#   BENCH_CPUS     CPU list for taskset, shared by both servers and wrk
#                  (default 0-1, or 0 on a 1-CPU machine)
#   NGINX_WORKERS  nginx worker_processes (default 2 = coffer's io threads on
#                  the 2-core reference machine)
set -euo pipefail

bench_name=health_vs_nginx
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

record=0
nginx_only=0
for arg in "$@"; do
  case "$arg" in
    --record) record=1 ;;
    --nginx-only) nginx_only=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done
if ((record && nginx_only)); then
  die "--record needs a real coffer run; it cannot be combined with --nginx-only"
fi

bench_init

# ---------------------------------------------------------------- tools ----

skip_coffer=$nginx_only
bench_require_tools 1
if ((nginx_only)); then
  command -v openssl >/dev/null 2>&1 || die "--nginx-only needs openssl to make a test certificate"
fi
bench_pin
bench_make_work_dir

# ----------------------------------------------------------------- coffer ---

body_file="$body_dir/health.json"

if ((nginx_only)); then
  make_test_certs "$cert_dir"
  printf '{"initialized":true,"sealed":false,"standby":false,"performance_standby":false,"replication_performance_mode":"disabled","replication_dr_mode":"disabled","server_time_utc":%s,"version":"0.1.0","cluster_name":"coffer-cluster","cluster_id":"00000000-0000-4000-8000-000000000000"}' \
    "$(date +%s)" >"$body_file"
else
  note "starting coffer ($coffer_bin)"
  start_coffer
  curl -sS --fail --max-time 5 --cacert "$cert_dir/ca.pem" -o "$body_file" \
    "https://127.0.0.1:$coffer_port/v1/sys/health" || die "could not fetch coffer's health body"
  grep -q '"sealed":false' "$body_file" || note "warning: health body does not say \"sealed\":false"
  note "coffer ready on 127.0.0.1:$coffer_port ($(wc -c <"$body_file") byte health body)"
fi
check_certs

# ------------------------------------------------------------------ nginx ---

nginx_locations="        location = /v1/sys/health {
            alias $body_file;
            add_header Cache-Control no-store always;
        }"

note "starting nginx ($nginx_bin, $nginx_workers workers)"
start_nginx /v1/sys/health

# Both servers must return the same bytes with the same content headers, or
# the comparison is meaningless.
nginx_url="https://127.0.0.1:$nginx_port/v1/sys/health"
curl -sS --fail --max-time 5 --cacert "$cert_dir/ca.pem" -D "$work_dir/nginx.headers" \
  -o "$work_dir/nginx.body" "$nginx_url" || die "could not fetch the body from nginx"
cmp -s "$body_file" "$work_dir/nginx.body" || die "nginx serves a different body than coffer"
grep -qi '^content-type: application/json' "$work_dir/nginx.headers" || die "nginx Content-Type is not application/json"
grep -qi '^cache-control: no-store' "$work_dir/nginx.headers" || die "nginx lacks Cache-Control: no-store"
if ((!nginx_only)); then
  curl -sS --fail --max-time 5 --cacert "$cert_dir/ca.pem" -D "$work_dir/coffer.headers" -o /dev/null \
    "https://127.0.0.1:$coffer_port/v1/sys/health" || die "could not fetch health headers from coffer"
  grep -qi '^content-type: application/json' "$work_dir/coffer.headers" || note "warning: coffer Content-Type is not application/json"
  grep -qi '^cache-control: no-store' "$work_dir/coffer.headers" || note "warning: coffer lacks Cache-Control: no-store"
fi
note "nginx ready on 127.0.0.1:$nginx_port"

# -------------------------------------------------------------------- wrk ---

wrk_cmd_desc="wrk -t$wrk_threads -c$wrk_connections -d$duration --latency https://127.0.0.1:<port>/v1/sys/health"

best_nginx_rps=0 best_nginx_p99=""
best_coffer_rps=0 best_coffer_p99=""
note "$pin_desc"
if ((nginx_only)); then
  note "$rounds round(s) of nginx only: $wrk_cmd_desc"
else
  note "$rounds round(s) of: nginx then coffer, $wrk_cmd_desc"
fi
for ((r = 1; r <= rounds; r++)); do
  run_wrk nginx "https://127.0.0.1:$nginx_port/v1/sys/health"
  printf '  round %d  nginx   %12.2f req/s  p99 %s\n' "$r" "$run_rps" "$run_p99" >&2
  if gt "$run_rps" "$best_nginx_rps"; then best_nginx_rps="$run_rps" best_nginx_p99="$run_p99"; fi
  if ((!nginx_only)); then
    run_wrk coffer "https://127.0.0.1:$coffer_port/v1/sys/health"
    printf '  round %d  coffer  %12.2f req/s  p99 %s\n' "$r" "$run_rps" "$run_p99" >&2
    if gt "$run_rps" "$best_coffer_rps"; then best_coffer_rps="$run_rps" best_coffer_p99="$run_p99"; fi
  fi
done

# ----------------------------------------------------------------- report ---

ratio=""
if ((!nginx_only)); then
  ratio="$(awk -v c="$best_coffer_rps" -v n="$best_nginx_rps" 'BEGIN { printf "%.1f", 100 * c / n }')"
fi

echo
echo "GET /v1/sys/health over TLS, best of $rounds alternating run(s) each (highest req/s; p99 is from that run)"
echo "$pin_desc; nginx worker_processes $nginx_workers"
printf '%-8s %14s %12s\n' server "req/s" "p99"
printf '%-8s %14.2f %12s\n' nginx "$best_nginx_rps" "$best_nginx_p99"
if ((nginx_only)); then
  echo "(--nginx-only: harness self-check, coffer not run)"
  exit 0
fi
printf '%-8s %14.2f %12s\n' coffer "$best_coffer_rps" "$best_coffer_p99"
echo "coffer/nginx: ${ratio} %"

if ((record)); then
  bench_results_file
  nginx_version="$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): sys/health vs nginx"
    echo
    echo "- script: \`bench/health_vs_nginx.sh\`"
    echo "- machine: $(bench_machine)"
    echo "- commit: $(bench_commit)"
    echo "- command: \`$wrk_cmd_desc\`, $rounds alternating round(s) (nginx then coffer), best of each by req/s"
    echo "- setup: $pin_desc; nginx $nginx_version with worker_processes $nginx_workers, same cert/key as coffer, TLSv1.2+1.3, keep-alive"
    echo
    echo "| server | req/s | p99 |"
    echo "|---|---:|---:|"
    printf '| nginx | %.2f | %s |\n' "$best_nginx_rps" "$best_nginx_p99"
    printf '| coffer | %.2f | %s |\n' "$best_coffer_rps" "$best_coffer_p99"
    echo
    echo "coffer/nginx: **${ratio} %**"
  } >>"$results"
  echo "recorded in ${results#"$repo_root"/}"
fi
