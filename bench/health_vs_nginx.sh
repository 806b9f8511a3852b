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

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

die() {
  echo "health_vs_nginx: error: $*" >&2
  exit 1
}
note() { echo "health_vs_nginx: $*" >&2; }

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

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
cd "$repo_root"

duration="${DURATION:-10s}"
rounds="${ROUNDS:-2}"
nginx_workers="${NGINX_WORKERS:-2}"
wrk_threads=2
wrk_connections=32
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$rounds'"
[[ "$nginx_workers" =~ ^[1-9][0-9]*$ ]] || die "NGINX_WORKERS must be a positive integer, got '$nginx_workers'"
[[ "$duration" =~ ^[0-9]+[smh]?$ ]] || die "DURATION must look like 10s, got '$duration'"

# ---------------------------------------------------------------- tools ----

coffer_bin=""
if ((!nginx_only)); then
  coffer_bin="${COFFER_BIN:-build/coffer}"
  [[ "$coffer_bin" == /* ]] || coffer_bin="$repo_root/$coffer_bin"
  [[ -x "$coffer_bin" ]] || die "coffer binary not found or not executable: $coffer_bin (build it first, or set COFFER_BIN)"
fi

find_nginx() {
  if command -v nginx >/dev/null 2>&1; then
    command -v nginx
  elif [[ -x /usr/sbin/nginx ]]; then
    echo /usr/sbin/nginx
  fi
}

nginx_bin="$(find_nginx)"
if [[ -z "$nginx_bin" ]] || ! command -v wrk >/dev/null 2>&1; then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    note "installing wrk and nginx-light with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null ||
      die "apt-get install wrk nginx-light failed (maybe run apt-get update first)"
    nginx_bin="$(find_nginx)"
  else
    die "wrk and nginx are required: apt-get install wrk nginx-light (as root)"
  fi
fi
[[ -n "$nginx_bin" ]] || die "nginx still not found after installing nginx-light"
command -v wrk >/dev/null 2>&1 || die "wrk still not found after installing it"
command -v curl >/dev/null 2>&1 || die "curl is required"
if ((nginx_only)); then
  command -v openssl >/dev/null 2>&1 || die "--nginx-only needs openssl to make a test certificate"
fi

# All three processes share the same CPUs: there are only 2 cores, so wrk
# cannot get cores of its own. Both servers face the same handicap.
ncpu="$(nproc)"
cpus="${BENCH_CPUS:-}"
if [[ -z "$cpus" ]]; then
  if ((ncpu >= 2)); then cpus="0-1"; else cpus="0"; fi
fi
pin=()
if command -v taskset >/dev/null 2>&1; then
  pin=(taskset -c "$cpus")
  pin_desc="servers and wrk all pinned to CPUs $cpus (shared)"
else
  pin_desc="taskset not found: nothing pinned"
fi

# ------------------------------------------------------- state & cleanup ----

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench.XXXXXX")"
coffer_pid=""
nginx_pid=""
wrk_pid=""

stop_pid() {
  local pid="$1" i
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$wrk_pid"
  stop_pid "$nginx_pid"
  stop_pid "$coffer_pid"
  rm -rf "$work_dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers ---

used_ports=" "
free_port_result=""
# Sets free_port_result to a free loopback port below the default ephemeral
# range (32768+), so it does not collide with wrk's own client ports. Free =
# nothing accepts on it now; another program may still take it first, which
# is why the startups retry. Not called via $(...): used_ports must persist.
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    [[ "$used_ports" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      free_port_result="$p"
      return 0
    fi
  done
  die "no free loopback port found"
}

# wait_https PID URL CAFILE SECONDS: poll until URL answers 2xx over TLS
# verified against CAFILE. Returns 1 if PID exits or time runs out.
wait_https() {
  local pid="$1" url="$2" ca="$3" secs="$4" i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -s "$ca" ]] && curl -sf --max-time 2 --cacert "$ca" -o /dev/null "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

show_log() {
  echo "---- $1 (last 20 lines) ----" >&2
  tail -n 20 "$1" >&2 2>/dev/null || true
  echo "----" >&2
}

# Converts a wrk latency figure (e.g. 812.00us, 2.31ms, 1.02s, 1.5m) to ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000
    else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
    else if (u != "ms") { print "NaN"; exit }
    printf "%.3f\n", n }'
}

make_test_certs() {
  # --nginx-only: a CA and a server cert for 127.0.0.1, EC P-256, with the
  # file names coffer -dev writes.
  local d="$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/ca-key.pem" -out "$d/ca.pem" -days 1 -subj "/CN=bench test CA" \
    >/dev/null 2>&1 || die "openssl: CA generation failed"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/server-key.pem" -out "$d/server.csr" -subj "/CN=127.0.0.1" \
    >/dev/null 2>&1 || die "openssl: server key generation failed"
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
    -CAcreateserial -days 1 -extfile "$d/ext.cnf" -out "$d/server.pem" \
    >/dev/null 2>&1 || die "openssl: server certificate signing failed"
}

# ----------------------------------------------------------------- coffer ---

cert_dir="$work_dir/certs"
mkdir -p "$cert_dir"
body_dir="$work_dir/www"
mkdir -p "$body_dir"
body_file="$body_dir/health.json"
coffer_port=""
coffer_log="$work_dir/coffer.log"

start_coffer() {
  local attempt
  for attempt in 1 2 3; do
    free_port
    coffer_port="$free_port_result"
    "${pin[@]}" "$coffer_bin" server -dev \
      "-dev-listen-address=127.0.0.1:$coffer_port" \
      "-dev-tls-cert-dir=$cert_dir" \
      "-dev-root-token-id=bench-root-token" \
      >"$coffer_log" 2>&1 &
    coffer_pid=$!
    if wait_https "$coffer_pid" "https://127.0.0.1:$coffer_port/v1/sys/health" "$cert_dir/ca.pem" 30; then
      grep -q "listening on 127.0.0.1:$coffer_port" "$coffer_log" ||
        note "warning: coffer answers but did not log 'listening on 127.0.0.1:$coffer_port'"
      return 0
    fi
    if kill -0 "$coffer_pid" 2>/dev/null; then
      show_log "$coffer_log"
      die "coffer did not answer https://127.0.0.1:$coffer_port/v1/sys/health within 30 s"
    fi
    wait "$coffer_pid" 2>/dev/null || true
    coffer_pid=""
    if ! grep -qi "in use" "$coffer_log"; then
      show_log "$coffer_log"
      die "coffer exited during startup"
    fi
    note "port $coffer_port taken (attempt $attempt), retrying"
  done
  die "coffer could not bind a loopback port"
}

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
for f in ca.pem server.pem server-key.pem; do
  [[ -s "$cert_dir/$f" ]] || die "missing certificate file $cert_dir/$f"
done

# ------------------------------------------------------------------ nginx ---

nginx_prefix="$work_dir/nginx"
mkdir -p "$nginx_prefix"
nginx_port=""
# nginx workers drop to an unprivileged user when started as root; they must be
# able to read the body (the certificate and key are read by the master).
chmod 0755 "$work_dir" "$body_dir"
chmod 0644 "$body_file"

write_nginx_conf() {
  cat >"$nginx_prefix/nginx.conf" <<EOF
# Generated by bench/health_vs_nginx.sh; deleted with its temp dir.
daemon off;
master_process on;
worker_processes $nginx_workers;
pid $nginx_prefix/nginx.pid;
error_log $nginx_prefix/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    server_tokens off;
    types {}
    default_type application/json;
    etag off;
    open_file_cache max=16 inactive=60s;
    keepalive_timeout 75s;
    keepalive_requests 1000000;

    client_body_temp_path $nginx_prefix/client_body;
    proxy_temp_path $nginx_prefix/proxy;
    fastcgi_temp_path $nginx_prefix/fastcgi;
    uwsgi_temp_path $nginx_prefix/uwsgi;
    scgi_temp_path $nginx_prefix/scgi;

    server {
        listen 127.0.0.1:$nginx_port ssl reuseport;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $cert_dir/server.pem;
        ssl_certificate_key $cert_dir/server-key.pem;

        location = /v1/sys/health {
            alias $body_file;
            add_header Cache-Control no-store always;
        }
        location / {
            return 404;
        }
    }
}
EOF
}

start_nginx() {
  local attempt log="$nginx_prefix/stderr.log"
  for attempt in 1 2 3; do
    free_port
    nginx_port="$free_port_result"
    write_nginx_conf
    "$nginx_bin" -t -q -p "$nginx_prefix/" -c "$nginx_prefix/nginx.conf" -e "$nginx_prefix/error.log" >"$log" 2>&1 || {
      show_log "$log"
      show_log "$nginx_prefix/error.log"
      die "nginx rejected the generated configuration ($nginx_prefix/nginx.conf)"
    }
    "${pin[@]}" "$nginx_bin" -p "$nginx_prefix/" -c "$nginx_prefix/nginx.conf" -e "$nginx_prefix/error.log" >"$log" 2>&1 &
    nginx_pid=$!
    if wait_https "$nginx_pid" "https://127.0.0.1:$nginx_port/v1/sys/health" "$cert_dir/ca.pem" 10; then
      return 0
    fi
    if kill -0 "$nginx_pid" 2>/dev/null; then
      show_log "$nginx_prefix/error.log"
      die "nginx did not answer on 127.0.0.1:$nginx_port within 10 s"
    fi
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
    if ! grep -qi "in use" "$nginx_prefix/error.log" "$log" 2>/dev/null; then
      show_log "$log"
      show_log "$nginx_prefix/error.log"
      die "nginx exited during startup"
    fi
    note "port $nginx_port taken (attempt $attempt), retrying"
  done
  die "nginx could not bind a loopback port"
}

note "starting nginx ($nginx_bin, $nginx_workers workers)"
start_nginx

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

# run_wrk NAME PORT: runs wrk once, sets run_rps and run_p99 (wrk's own
# notation, e.g. 2.31ms).
run_wrk() {
  local name="$1" port="$2" out="$work_dir/wrk.out" errs rc=0
  # In the background so that INT/TERM run the cleanup trap at once instead
  # of after the whole wrk run.
  "${pin[@]}" wrk "-t$wrk_threads" "-c$wrk_connections" "-d$duration" --latency \
    "https://127.0.0.1:$port/v1/sys/health" >"$out" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || rc=$?
  wrk_pid=""
  if ((rc != 0)); then
    cat "$out" >&2
    die "wrk failed against $name (exit $rc)"
  fi
  if grep -q '^ *Non-2xx or 3xx responses:' "$out"; then
    cat "$out" >&2
    die "$name answered with non-2xx responses; the run is invalid"
  fi
  errs="$(grep '^ *Socket errors:' "$out" || true)"
  [[ -z "$errs" ]] || note "warning: $name:${errs#*:}"
  run_rps="$(awk '$1 == "Requests/sec:" { print $2 }' "$out")"
  run_p99="$(awk '$1 == "99%" { print $2; exit }' "$out")"
  [[ "$run_rps" =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
    cat "$out" >&2
    die "could not parse Requests/sec from wrk output for $name"
  }
  [[ -n "$run_p99" && "$(to_ms "$run_p99")" != NaN ]] || {
    cat "$out" >&2
    die "could not parse the 99% latency from wrk output for $name"
  }
}

gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

best_nginx_rps=0 best_nginx_p99=""
best_coffer_rps=0 best_coffer_p99=""
note "$pin_desc"
if ((nginx_only)); then
  note "$rounds round(s) of nginx only: $wrk_cmd_desc"
else
  note "$rounds round(s) of: nginx then coffer, $wrk_cmd_desc"
fi
for ((r = 1; r <= rounds; r++)); do
  run_wrk nginx "$nginx_port"
  printf '  round %d  nginx   %12.2f req/s  p99 %s\n' "$r" "$run_rps" "$run_p99" >&2
  if gt "$run_rps" "$best_nginx_rps"; then best_nginx_rps="$run_rps" best_nginx_p99="$run_p99"; fi
  if ((!nginx_only)); then
    run_wrk coffer "$coffer_port"
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
  results="$script_dir/RESULTS.md"
  if [[ ! -e "$results" ]]; then
    cat >"$results" <<'EOF'
# Benchmark results

Every figure in this file was appended by a benchmark script run with
`--record`; none is typed by hand. See `bench/README.md` for what each script
measures.

Method: absolute requests per second depend on the machine, so each coffer
figure is reported as a ratio against a ceiling measured in the same run, on
the same machine, with the same CPUs, the same TLS certificate and the same
load generator: nginx serving the byte-identical response. Runs alternate
(ceiling, coffer, ceiling, coffer, ...) and the best run of each is kept, so
that slow drift of the machine affects both sides alike.
EOF
  fi
  commit="unknown"
  if git -C "$repo_root" rev-parse --short HEAD >/dev/null 2>&1; then
    commit="$(git -C "$repo_root" rev-parse --short HEAD)"
    [[ -z "$(git -C "$repo_root" status --porcelain --untracked-files=no 2>/dev/null)" ]] || commit+=" (with uncommitted changes)"
  fi
  cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
  nginx_version="$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): sys/health vs nginx"
    echo
    echo "- script: \`bench/health_vs_nginx.sh\`"
    echo "- machine: nproc $ncpu${cpu_model:+, $cpu_model}, $(uname -sr)"
    echo "- commit: $commit"
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
