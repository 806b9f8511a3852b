# shellcheck shell=bash disable=SC2034,SC2154
# (SC2034, SC2154: variables shared with the sourcing script, which sets bench_name.)
#
# bench/lib.sh: shared code of the bench/*.sh scripts. Source it, do not run it.
#
# The caller sets bench_name (the message prefix, e.g. health_vs_nginx) and
# runs under `set -euo pipefail`. Then, in this order:
#
#   bench_parse_args "$@"      record (1 with --record); -h/--help prints usage
#   bench_init                 script_dir, repo_root (and cd there), duration,
#                              rounds, nginx_workers, wrk_threads, wrk_connections
#   bench_require_tools N      coffer_bin (unless N's skip_coffer=1), wrk, curl,
#                              and nginx_bin if N=1 (installs wrk/nginx-light
#                              with apt-get when root and missing)
#   bench_pin                  ncpu, cpus, pin (taskset prefix), pin_desc
#   bench_make_work_dir        work_dir (removed on exit), cleanup trap,
#                              cert_dir, body_dir
#   start_coffer               coffer -dev on a free port: coffer_port, coffer_pid
#   start_nginx PROBE_PATH     nginx with the location blocks in nginx_locations:
#                              nginx_port, nginx_pid
#   run_wrk NAME URL [LUA [ARG...]]
#                              one wrk run: run_rps, run_p99, run_out (its output)
#
# Everything listens on 127.0.0.1 only. Every process started here is stopped
# by its PID on exit (success, failure, Ctrl-C).

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

die() {
  echo "$bench_name: error: $*" >&2
  exit 1
}
note() { echo "$bench_name: $*" >&2; }

gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# The scripts' common arguments: --record (sets record=1), -h/--help.
bench_parse_args() {
  record=0
  local arg
  for arg in "$@"; do
    case "$arg" in
      --record) record=1 ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die "unknown argument '$arg' (try --help)" ;;
    esac
  done
}

bench_init() {
  script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  repo_root="$(cd "$script_dir/.." && pwd)"
  cd "$repo_root" || exit 1

  duration="${DURATION:-10s}"
  rounds="${ROUNDS:-2}"
  nginx_workers="${NGINX_WORKERS:-2}"
  wrk_threads=2
  wrk_connections=32
  [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$rounds'"
  [[ "$nginx_workers" =~ ^[1-9][0-9]*$ ]] || die "NGINX_WORKERS must be a positive integer, got '$nginx_workers'"
  [[ "$duration" =~ ^[0-9]+[smh]?$ ]] || die "DURATION must look like 10s, got '$duration'"
}

# ---------------------------------------------------------------- tools ----

find_nginx() {
  if command -v nginx >/dev/null 2>&1; then
    command -v nginx
  elif [[ -x /usr/sbin/nginx ]]; then
    echo /usr/sbin/nginx
  fi
}

# bench_require_tools NEED_NGINX: sets coffer_bin (unless skip_coffer=1) and
# nginx_bin (if NEED_NGINX=1); checks wrk and curl.
bench_require_tools() {
  local need_nginx="$1" pkgs=()
  coffer_bin=""
  if ((!${skip_coffer:-0})); then
    coffer_bin="${COFFER_BIN:-build/coffer}"
    [[ "$coffer_bin" == /* ]] || coffer_bin="$repo_root/$coffer_bin"
    [[ -x "$coffer_bin" ]] || die "coffer binary not found or not executable: $coffer_bin (build it first, or set COFFER_BIN)"
  fi

  nginx_bin=""
  if ((need_nginx)); then
    nginx_bin="$(find_nginx)"
    # As before the split into lib.sh: if either is missing, install both.
    if [[ -z "$nginx_bin" ]] || ! command -v wrk >/dev/null 2>&1; then pkgs=(wrk nginx-light); fi
  elif ! command -v wrk >/dev/null 2>&1; then
    pkgs=(wrk)
  fi
  if ((${#pkgs[@]})); then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      note "installing ${pkgs[*]} with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null ||
        die "apt-get install ${pkgs[*]} failed (maybe run apt-get update first)"
      if ((need_nginx)); then nginx_bin="$(find_nginx)"; fi
    elif ((need_nginx)); then
      die "wrk and nginx are required: apt-get install wrk nginx-light (as root)"
    else
      die "wrk is required: apt-get install wrk (as root)"
    fi
  fi
  if ((need_nginx)); then
    [[ -n "$nginx_bin" ]] || die "nginx still not found after installing nginx-light"
  fi
  command -v wrk >/dev/null 2>&1 || die "wrk still not found after installing it"
  command -v curl >/dev/null 2>&1 || die "curl is required"
}

# All processes share the same CPUs: there are only 2 cores, so wrk cannot get
# cores of its own. Every server measured faces the same handicap.
bench_pin() {
  ncpu="$(nproc)"
  cpus="${BENCH_CPUS:-}"
  if [[ -z "$cpus" ]]; then
    if ((ncpu >= 2)); then cpus="0-1"; else cpus="0"; fi
  fi
  pin=()
  if command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c "$cpus")
    pin_desc="${pin_what:-servers and wrk} all pinned to CPUs $cpus (shared)"
  else
    pin_desc="taskset not found: nothing pinned"
  fi
}

# ------------------------------------------------------- state & cleanup ----

coffer_pid=""
nginx_pid=""
wrk_pid=""
work_dir=""

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
  [[ -z "$work_dir" ]] || rm -rf "$work_dir"
  exit "$rc"
}

bench_make_work_dir() {
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench.XXXXXX")"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cert_dir="$work_dir/certs"
  mkdir -p "$cert_dir"
  body_dir="$work_dir/www"
  mkdir -p "$body_dir"
}

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
  # A CA and a server cert for 127.0.0.1, EC P-256, with the file names
  # coffer -dev writes (for harness self-checks without coffer).
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

check_certs() {
  local f
  for f in ca.pem server.pem server-key.pem; do
    [[ -s "$cert_dir/$f" ]] || die "missing certificate file $cert_dir/$f"
  done
}

# ----------------------------------------------------------------- coffer ---

coffer_port=""
bench_root_token="bench-root-token"

# Extra arguments for `coffer server -dev` (set by the sourcing script).
coffer_extra_args=()

# Starts `coffer server -dev` (KV v2 at secret/, root token bench_root_token)
# on a free loopback port, certificates in cert_dir. Its RocksDB data dir is
# created under work_dir (TMPDIR), so it is removed even if coffer is killed.
start_coffer() {
  local attempt
  coffer_log="$work_dir/coffer.log"
  for attempt in 1 2 3; do
    free_port
    coffer_port="$free_port_result"
    TMPDIR="$work_dir" "${pin[@]}" "$coffer_bin" server -dev \
      "-dev-listen-address=127.0.0.1:$coffer_port" \
      "-dev-tls-cert-dir=$cert_dir" \
      "-dev-root-token-id=$bench_root_token" \
      "${coffer_extra_args[@]}" \
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

# ------------------------------------------------------------------ nginx ---

nginx_port=""
nginx_locations=""

# Writes nginx.conf in nginx_prefix: the server block serves the caller's
# nginx_locations (nginx syntax, may use $body_dir) and 404 for the rest.
write_nginx_conf() {
  cat >"$nginx_prefix/nginx.conf" <<EOF
# Generated by bench/$bench_name.sh; deleted with its temp dir.
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

$nginx_locations
        location / {
            return 404;
        }
    }
}
EOF
}

# start_nginx PROBE_PATH: starts nginx (nginx_workers workers, same cert as
# coffer) on a free loopback port and waits until PROBE_PATH answers 2xx.
start_nginx() {
  local probe="$1" attempt log
  nginx_prefix="$work_dir/nginx"
  mkdir -p "$nginx_prefix"
  log="$nginx_prefix/stderr.log"
  # nginx workers drop to an unprivileged user when started as root; they must
  # be able to read the bodies (the certificate and key are read by the master).
  chmod 0755 "$work_dir" "$body_dir"
  chmod -R a+rX "$body_dir"
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
    if wait_https "$nginx_pid" "https://127.0.0.1:$nginx_port$probe" "$cert_dir/ca.pem" 10; then
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

# -------------------------------------------------------------------- wrk ---

# run_wrk NAME URL [LUA_SCRIPT [SCRIPT_ARG...]]: runs wrk once (wrk_threads,
# wrk_connections, duration, --latency), sets run_rps and run_p99 (wrk's own
# notation, e.g. 2.31ms); run_out names a file with wrk's output. Any non-2xx
# response makes the run invalid (die).
run_wrk() {
  local name="$1" url="$2" errs rc=0 script=()
  shift 2
  if (($# > 0)); then
    script=(-s "$1" "$url" --)
    shift
    script+=("$@")
  else
    script=("$url")
  fi
  run_out="$work_dir/wrk.out"
  # In the background so that INT/TERM run the cleanup trap at once instead
  # of after the whole wrk run.
  "${pin[@]}" wrk "-t$wrk_threads" "-c$wrk_connections" "-d$duration" --latency \
    "${script[@]}" >"$run_out" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || rc=$?
  wrk_pid=""
  if ((rc != 0)); then
    cat "$run_out" >&2
    die "wrk failed against $name (exit $rc)"
  fi
  if grep -q '^ *Non-2xx or 3xx responses:' "$run_out"; then
    cat "$run_out" >&2
    die "$name answered with non-2xx responses; the run is invalid"
  fi
  errs="$(grep '^ *Socket errors:' "$run_out" || true)"
  [[ -z "$errs" ]] || note "warning: $name:${errs#*:}"
  run_rps="$(awk '$1 == "Requests/sec:" { print $2 }' "$run_out")"
  run_p99="$(awk '$1 == "99%" { print $2; exit }' "$run_out")"
  [[ "$run_rps" =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
    cat "$run_out" >&2
    die "could not parse Requests/sec from wrk output for $name"
  }
  [[ -n "$run_p99" && "$(to_ms "$run_p99")" != NaN ]] || {
    cat "$run_out" >&2
    die "could not parse the 99% latency from wrk output for $name"
  }
}

# --------------------------------------------------------------- record -----

# Sets results to bench/RESULTS.md, creating it with its header paragraph if
# it does not exist yet.
bench_results_file() {
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
}

# Prints the short commit, with "(with uncommitted changes)" if tracked files
# differ from it.
bench_commit() {
  local commit="unknown"
  if git -C "$repo_root" rev-parse --short HEAD >/dev/null 2>&1; then
    commit="$(git -C "$repo_root" rev-parse --short HEAD)"
    [[ -z "$(git -C "$repo_root" status --porcelain --untracked-files=no 2>/dev/null)" ]] || commit+=" (with uncommitted changes)"
  fi
  echo "$commit"
}

# Prints "nproc N, CPU model, kernel".
bench_machine() {
  local cpu_model
  cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
  echo "nproc $ncpu${cpu_model:+, $cpu_model}, $(uname -sr)"
}
