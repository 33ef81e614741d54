#!/usr/bin/env bash
# local-tiers.sh: make Redis, PostgreSQL and ClickHouse reachable on loopback for
# development, tests and CI (Debian bookworm, run as root).
#
#   scripts/local-tiers.sh up        reuse tiers that already answer, start private ones otherwise
#   scripts/local-tiers.sh down      stop only the private instances that `up` started
#   scripts/local-tiers.sh status    one line per tier; exit 1 if any tier is unreachable
#   scripts/local-tiers.sh env       print exports: eval "$(scripts/local-tiers.sh env)"
#
# For tests that crash or restart a tier on their own port (silent on success):
#   scripts/local-tiers.sh start-private redis|postgres|clickhouse PORT DIR
#   scripts/local-tiers.sh stop-private  redis|postgres|clickhouse DIR
#   scripts/local-tiers.sh kill-private  redis|postgres|clickhouse DIR     (SIGKILL: hard crash)
#
# Environment:
#   MESSAGESTORE_TIERS_DIR              state + data of `up` (default: <repo>/.local/tiers)
#   MESSAGESTORE_TIERS_REDIS_PORT       default 6379
#   MESSAGESTORE_TIERS_POSTGRES_PORT    default 5432
#   MESSAGESTORE_TIERS_CLICKHOUSE_PORT  default 8123 (HTTP; native TCP is 9000, or 19000+ if taken)
#   MESSAGESTORE_TIERS_TIMEOUT          seconds to wait for a tier to answer (default 60)
#   MESSAGESTORE_TIERS_REDIS_APPENDONLY yes|no for private Redis (default no: a cache, like the
#                                       shared dev/CI Redis, which runs without persistence)
#
# Services this script did not start are never stopped, flushed or reconfigured; the only
# thing it does to them is create the `messagestore` database if it is missing.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$SCRIPT_DIR")
# Absolute, because PostgreSQL commands run as another user from another directory.
TIERS_DIR=$(realpath -m "${MESSAGESTORE_TIERS_DIR:-$REPO_ROOT/.local/tiers}")
TIMEOUT=${MESSAGESTORE_TIERS_TIMEOUT:-60}
HOST=127.0.0.1
DB_NAME=messagestore
TIERS=(redis postgres clickhouse)

QUIET=0          # start-private & co. print nothing but errors
APT_UPDATED=0    # `apt-get update` at most once per run
CH_TCP_PORT=''   # native port chosen by the last clickhouse_start, recorded in the state file

# ----------------------------------------------------------------------------- output

say() { if [[ $QUIET == 0 ]]; then echo "$*"; fi; }
warn() { echo "local-tiers: $*" >&2; }
die() { warn "$*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

# Print the last lines of each existing log file to stderr, to explain a failed start.
show_logs() {
    local f
    for f in "$@"; do
        if [[ -s $f ]]; then
            echo "---- last lines of $f ----" >&2
            tail -n 30 "$f" >&2
        fi
    done
}

# ----------------------------------------------------------------------------- small helpers

configured_port() {
    local p
    case $1 in
        redis) p=${MESSAGESTORE_TIERS_REDIS_PORT:-6379} ;;
        postgres) p=${MESSAGESTORE_TIERS_POSTGRES_PORT:-5432} ;;
        clickhouse) p=${MESSAGESTORE_TIERS_CLICKHOUSE_PORT:-8123} ;;
    esac
    check_port "$p"
    echo "$p"
}

check_port() {
    if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then die "not a TCP port: '$1'"; fi
}
check_tier() { [[ " ${TIERS[*]} " == *" $1 "* ]] || die "unknown tier '$1' (redis|postgres|clickhouse)"; }

# True if something accepts TCP connections on 127.0.0.1:PORT (bash's /dev/tcp, no extra tools).
port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# First port from the candidates, then upwards from the last one, that is free and not excluded.
# Usage: pick_free_port EXCLUDED CANDIDATE...
pick_free_port() {
    local excluded=$1 p
    shift
    for p in "$@"; do
        if [[ $p != "$excluded" ]] && ! port_in_use "$p"; then echo "$p"; return 0; fi
    done
    for ((p = ${!#} + 1; p < 65536; p++)); do
        if [[ $p != "$excluded" ]] && ! port_in_use "$p"; then echo "$p"; return 0; fi
    done
    die "no free port found above ${!#}"
}

# PID from a pid file (first line; postmaster.pid has more lines).
read_pid() {
    local pid=''
    [[ -s $1 ]] || return 1
    read -r pid <"$1" || true
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    echo "$pid"
}

# True if PID runs and is not a zombie; with NAME, also that its command is NAME. The name check
# keeps a stale pid file (reboot, PID reuse) from making us signal an unrelated process.
pid_alive() {
    local pid=$1 name=${2:-} stat state task
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    state=${stat##*) }
    if [[ ${state%% *} == Z ]]; then
        # A zombie is dead, unless only its main thread is: ClickHouse's main thread exits first
        # on shutdown and shows as Z while its other threads still run (and hold the ports).
        local others=0
        for task in /proc/"$pid"/task/*; do
            [[ ${task##*/} == "$pid" ]] || others=1
        done
        ((others)) || return 1
    fi
    # /proc/PID/comm is cut to 15 characters ("clickhouse-serv").
    [[ -z $name || $(cat "/proc/$pid/comm" 2>/dev/null) == "${name:0:15}" ]]
}

# Wait until none of the PIDs is alive; false after SECS seconds.
wait_gone() {
    local secs=$1 deadline pid
    shift
    deadline=$((SECONDS + secs))
    while :; do
        local alive=0
        for pid in "$@"; do
            if pid_alive "$pid"; then alive=1; fi
        done
        ((alive)) || return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# Poll PROBE (a function taking the port) until it succeeds. If the server process has gone
# away (pid file empty or dead after a short grace period) fail at once instead of waiting out
# the deadline. On failure show the logs and exit.
# Usage: wait_ready WHAT PORT PIDFILE PROCNAME PROBE LOG...
wait_ready() {
    local what=$1 port=$2 pidfile=$3 procname=$4 probe=$5 pid
    shift 5
    local start=$SECONDS
    until "$probe" "$port"; do
        if ((SECONDS - start >= 3)) && ! { pid=$(read_pid "$pidfile") && pid_alive "$pid" "$procname"; }; then
            warn "$what exited during startup (port $HOST:$port)"
            show_logs "$@"
            exit 1
        fi
        if ((SECONDS - start >= TIMEOUT)); then
            warn "$what did not answer on $HOST:$port within ${TIMEOUT}s"
            show_logs "$@"
            exit 1
        fi
        sleep 0.2
    done
}

# ----------------------------------------------------------------------------- packages

# Binary -> Debian package. Client tools are needed to probe a tier, servers only to start one.
client_packages() {
    case $1 in
        redis) command -v redis-cli >/dev/null || echo redis-tools ;;
        postgres) command -v pg_isready >/dev/null && command -v psql >/dev/null || echo postgresql-client ;;
        clickhouse) command -v curl >/dev/null || echo curl ;;
    esac
}

server_packages() {
    case $1 in
        redis) command -v redis-server >/dev/null || echo redis-server ;;
        postgres) pg_bin_dir >/dev/null 2>&1 || echo postgresql ;;
        clickhouse)
            command -v clickhouse-server >/dev/null || echo clickhouse-server
            command -v clickhouse-client >/dev/null || echo clickhouse-client
            command -v curl >/dev/null || echo curl
            ;;
    esac
}

apt_install() {
    (($# > 0)) || return 0
    [[ $EUID == 0 ]] || die "missing packages ($*); run as root or install them first"
    command -v apt-get >/dev/null || die "missing packages ($*) and no apt-get to install them"
    local log
    log=$(mktemp)
    say "installing: $*"
    if [[ $APT_UPDATED == 0 ]]; then
        apt-get update >>"$log" 2>&1 || { show_logs "$log"; rm -f "$log"; die "apt-get update failed"; }
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >>"$log" 2>&1 9>&- ||
        { show_logs "$log"; rm -f "$log"; die "apt-get install $* failed"; }
    rm -f "$log"
}

# Install, in one apt-get call, what the given tiers lack. KIND is client or server.
ensure_packages() {
    local kind=$1 tier pkgs
    shift
    # One package per line; sort -u because curl can be wanted twice.
    mapfile -t pkgs < <(for tier in "$@"; do "${kind}_packages" "$tier"; done | sort -u)
    apt_install "${pkgs[@]}"
}

# ----------------------------------------------------------------------------- probes

redis_probe() { [[ $(timeout 5 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null) == PONG ]]; }
postgres_probe() { timeout 5 pg_isready -q -h "$HOST" -p "$1" -U postgres -d postgres >/dev/null 2>&1; }
clickhouse_probe() { [[ $(curl -s --max-time 5 "http://$HOST:$1/ping" 2>/dev/null) == "Ok." ]]; }

# ----------------------------------------------------------------------------- Redis

redis_start() {
    local port=$1 dir=$2 pid
    mkdir -p "$dir"
    if pid=$(read_pid "$dir/redis.pid") && pid_alive "$pid" redis-server; then
        redis_probe "$port" && return 0
        die "redis in $dir runs (pid $pid) but does not answer on $HOST:$port; stop-private it first"
    fi
    port_in_use "$port" && die "port $port is already in use; cannot start redis there"
    echo "$port" >"$dir/redis.port"
    # No RDB snapshots: a private Redis is a cache like the shared one; AOF only on request.
    redis-server --port "$port" --bind "$HOST" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
        --save '' --appendonly "${MESSAGESTORE_TIERS_REDIS_APPENDONLY:-no}" >/dev/null 9>&- ||
        { show_logs "$dir/redis.log"; die "redis-server failed to start on $HOST:$port"; }
    wait_ready redis "$port" "$dir/redis.pid" redis-server redis_probe "$dir/redis.log"
}

redis_stop() {
    local dir=$1 pid port
    pid=$(read_pid "$dir/redis.pid") && pid_alive "$pid" redis-server || return 0
    port=$(cat "$dir/redis.port" 2>/dev/null || true)
    # SHUTDOWN NOSAVE only if the server on that port really is our pid; else a plain SIGTERM.
    if [[ -n $port ]] &&
        [[ $(timeout 5 redis-cli -h "$HOST" -p "$port" info server 2>/dev/null | tr -d '\r' |
            sed -n 's/^process_id://p') == "$pid" ]]; then
        timeout 10 redis-cli -h "$HOST" -p "$port" shutdown nosave >/dev/null 2>&1 || true
    else
        kill -TERM "$pid" 2>/dev/null || true
    fi
    stop_wait redis "$pid"
}

redis_kill() {
    local dir=$1 pid
    pid=$(read_pid "$dir/redis.pid") && pid_alive "$pid" redis-server || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone 10 "$pid" || die "redis pid $pid survived SIGKILL"
}

# After a polite stop request: wait, and SIGKILL if the deadline passes.
stop_wait() {
    local what=$1 pid=$2
    wait_gone "$TIMEOUT" "$pid" && return 0
    warn "$what (pid $pid) did not stop within ${TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone 10 "$pid" || die "$what pid $pid survived SIGKILL"
}

# ----------------------------------------------------------------------------- PostgreSQL

# Newest installed server version's bin dir (Debian keeps them in /usr/lib/postgresql/VERSION/bin).
pg_bin_dir() {
    local newest
    newest=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
    [[ -x $newest ]] || return 1
    dirname "$newest"
}

# initdb and the server refuse to run as root: as root, run them as the postgres user.
# (cd / so that a working directory postgres may not read does not matter.)
as_pg() {
    if [[ $EUID == 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

postgres_start() {
    local port=$1 dir=$2 bin out sockdir pid
    bin=$(pg_bin_dir) || die "no PostgreSQL server found under /usr/lib/postgresql"
    # The path goes into pg_ctl's -o string, which a shell parses.
    [[ $dir != *"'"* ]] || die "PostgreSQL data directory must not contain a quote: $dir"
    mkdir -p "$dir"
    if [[ $EUID == 0 ]]; then
        chown postgres:postgres "$dir"
        chmod 700 "$dir"
        as_pg test -w "$dir" ||
            die "user postgres cannot write $dir (is a parent directory closed to other users?); set MESSAGESTORE_TIERS_DIR or pass another DIR"
    fi
    # The socket path must fit in 107 bytes; a deep checkout falls back to /tmp (clients use TCP).
    sockdir=$dir
    ((${#dir} <= 90)) || sockdir=/tmp
    # Our own liveness check, not `pg_ctl status`: that one counts a zombie as running.
    if pid=$(read_pid "$dir/postmaster.pid") && pid_alive "$pid" postgres; then
        postgres_probe "$port" && { postgres_create_db "$port"; return 0; }
        die "postgres in $dir runs (pid $pid) but does not answer on $HOST:$port; stop-private it first"
    fi
    port_in_use "$port" && die "port $port is already in use; cannot start postgres there"
    # After kill-private the lock files remain, and until the dead postmaster's zombie is reaped
    # (slow under some init processes) postgres takes them for a live server and refuses to start.
    # The postmaster was just found dead, so they are stale.
    rm -f "$dir/postmaster.pid"
    if ! { pid=$(read_pid "$sockdir/.s.PGSQL.$port.lock") && pid_alive "$pid" postgres; }; then
        rm -f "$sockdir/.s.PGSQL.$port.lock"
    fi
    if [[ ! -s $dir/PG_VERSION ]]; then
        # UTF8 + C.UTF-8 like the shared dev/CI cluster; without -E the C locale gives SQL_ASCII.
        out=$(as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 2>&1) ||
            { echo "$out" >&2; die "initdb failed for $dir"; }
    fi
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w -t "$TIMEOUT" \
        -o "-p $port -k '$sockdir' -c listen_addresses=$HOST" start >/dev/null 2>&1 9>&- ||
        { show_logs "$dir/log"; die "postgres did not start on $HOST:$port (data $dir)"; }
    wait_ready postgres "$port" "$dir/postmaster.pid" postgres postgres_probe "$dir/log"
    postgres_create_db "$port"
}

# CREATE DATABASE has no IF NOT EXISTS: look first, and tolerate losing a race to another caller.
postgres_create_db() {
    local port=$1 out
    local psql=(psql -X -q -h "$HOST" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    out=$(PGCONNECT_TIMEOUT=10 "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>&1) ||
        die "cannot query PostgreSQL on $HOST:$port as user postgres: $out"
    [[ $out == 1 ]] && return 0
    out=$("${psql[@]}" -c "CREATE DATABASE $DB_NAME" 2>&1) && return 0
    [[ $("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>/dev/null) == 1 ]] ||
        die "cannot create database $DB_NAME on $HOST:$port: $out"
}

postgres_stop() {
    local dir=$1 bin pid
    [[ -d $dir ]] || return 0
    bin=$(pg_bin_dir) || die "no PostgreSQL server found under /usr/lib/postgresql"
    pid=$(read_pid "$dir/postmaster.pid") && pid_alive "$pid" postgres || return 0
    # fast: roll back open transactions and stop now, instead of waiting for clients to leave.
    as_pg "$bin/pg_ctl" -D "$dir" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1 || true
    stop_wait postgres "$pid"
}

postgres_kill() {
    local dir=$1 pid children
    pid=$(read_pid "$dir/postmaster.pid") && pid_alive "$pid" postgres || return 0
    # A crash takes the backends with it. Left alone they would outlive the postmaster for a
    # while and keep its shared memory, and the next start would refuse to run.
    children=$(pgrep -P "$pid" || true)
    # shellcheck disable=SC2086 # word splitting of the PID list is intended
    kill -KILL "$pid" $children 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 10 "$pid" $children || die "postgres processes survived SIGKILL"
}

# ----------------------------------------------------------------------------- ClickHouse

# Generated config for a small private server. 18.16 reads the <yandex> root element. There is
# no interserver_http_port: without it 18.16 opens no interserver listener, so it cannot clash.
clickhouse_write_config() {
    local port=$1 tcp=$2 dir=$3
    cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Generated by scripts/local-tiers.sh; rewritten on every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>50M</size>
        <count>2</count>
    </logger>
    <listen_host>$HOST</listen_host>
    <http_port>$port</http_port>
    <tcp_port>$tcp</tcp_port>
    <max_concurrent_queries>100</max_concurrent_queries>
    <!-- The stock config reserves 5 + 8 GiB of caches; 256 MiB each is plenty here. -->
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <!-- Same DateTime rendering on every machine, whatever its local time zone. -->
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
    # Same layout as the stock /etc/clickhouse-server/users.xml, minus its "incl" substitutions
    # (they look for /etc/metrika.xml) and with user default limited to loopback.
    cat >"$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Generated by scripts/local-tiers.sh; rewritten on every start. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

# POST a statement over HTTP. Never ask 18.16 for compressed responses (compress=1): it answers
# with an empty body and no error.
clickhouse_query() {
    curl -sS --max-time 30 --fail-with-body --data-binary "$2" "http://$HOST:$1/"
}

clickhouse_start() {
    local port=$1 dir=$2 pid
    command -v clickhouse-server >/dev/null || die "clickhouse-server is not installed"
    [[ $dir != *[\<\>\&]* ]] || die "ClickHouse directory must not contain < > &: $dir"
    mkdir -p "$dir"/{data,tmp,log,user_files}
    local pidfile=$dir/clickhouse.pid logs=("$dir/log/clickhouse-server.err.log" "$dir/log/stderr.log")
    if pid=$(read_pid "$pidfile") && pid_alive "$pid" clickhouse-server; then
        clickhouse_probe "$port" && { clickhouse_create_db "$port"; return 0; }
        die "clickhouse in $dir runs (pid $pid) but does not answer on $HOST:$port; stop-private it first"
    fi
    # A stale pid file makes 18.16 refuse to start, and a failed start then deletes it.
    rm -f "$pidfile"
    port_in_use "$port" && die "port $port is already in use; cannot start clickhouse there"
    CH_TCP_PORT=$(pick_free_port "$port" 9000 19000)
    clickhouse_write_config "$port" "$CH_TCP_PORT" "$dir"
    # --daemon returns at once; startup errors land in log/stderr.log and the err log.
    clickhouse-server --daemon --pid-file="$pidfile" --config-file="$dir/config.xml" -- \
        --path="$dir/data/" --tmp_path="$dir/tmp/" --http_port="$port" --tcp_port="$CH_TCP_PORT" \
        >>"$dir/log/launch.log" 2>&1 9>&- || { show_logs "$dir/log/launch.log" "${logs[@]}"; die "clickhouse-server failed to launch"; }
    wait_ready clickhouse "$port" "$pidfile" clickhouse-server clickhouse_probe "${logs[@]}"
    # /ping answers before users and settings are checked: prove a real query works.
    local one
    one=$(clickhouse_query "$port" 'SELECT 1' 2>&1) || true
    if [[ $one != 1 ]]; then
        show_logs "${logs[@]}"
        die "clickhouse on $HOST:$port answers ping but not SELECT 1: $one"
    fi
    clickhouse_create_db "$port"
}

clickhouse_create_db() {
    local out
    out=$(clickhouse_query "$1" "CREATE DATABASE IF NOT EXISTS $DB_NAME" 2>&1) ||
        die "cannot create database $DB_NAME in ClickHouse on $HOST:$1: $out"
}

clickhouse_stop() {
    local dir=$1 pid
    if ! { pid=$(read_pid "$dir/clickhouse.pid") && pid_alive "$pid" clickhouse-server; }; then
        rm -f "$dir/clickhouse.pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    stop_wait clickhouse "$pid"
    rm -f "$dir/clickhouse.pid"
}

clickhouse_kill() {
    local dir=$1 pid
    pid=$(read_pid "$dir/clickhouse.pid") && pid_alive "$pid" clickhouse-server || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone 10 "$pid" || die "clickhouse pid $pid survived SIGKILL"
    rm -f "$dir/clickhouse.pid" # or the next start refuses (see clickhouse_start)
}

# ----------------------------------------------------------------------------- per-tier dispatch

tier_probe() { "${1}_probe" "$2"; }

# True if the private instance whose data is in DIR is running.
private_running() {
    local tier=$1 dir=$2 pid
    case $tier in
        redis) pid=$(read_pid "$dir/redis.pid") && pid_alive "$pid" redis-server ;;
        postgres) pid=$(read_pid "$dir/postmaster.pid") && pid_alive "$pid" postgres ;;
        clickhouse) pid=$(read_pid "$dir/clickhouse.pid") && pid_alive "$pid" clickhouse-server ;;
    esac
}

create_db() {
    case $1 in
        postgres) postgres_create_db "$2" ;;
        clickhouse) clickhouse_create_db "$2" ;;
    esac
}

# ----------------------------------------------------------------------------- state of `up`
# $TIERS_DIR/<tier>.state exists only for instances that `up` started: key=value lines.

state_file() { echo "$TIERS_DIR/$1.state"; }

state_get() {
    local f
    f=$(state_file "$1")
    [[ -f $f ]] || return 1
    sed -n "s/^$2=//p" "$f" | head -n 1
}

# Port to report for a tier: the private instance's if `up` started one, else the configured one.
effective_port() { state_get "$1" port 2>/dev/null || configured_port "$1"; }

# ----------------------------------------------------------------------------- commands

cmd_up() {
    mkdir -p "$TIERS_DIR"
    # Two `up`/`down` at once (parallel CI steps) must not both start the same tier. Every
    # daemon is launched with 9>&- so that it does not inherit, and hold forever, this lock.
    exec 9>"$TIERS_DIR/.lock"
    flock 9

    ensure_packages client "${TIERS[@]}"

    local tier port sport sdir to_start=()
    for tier in "${TIERS[@]}"; do
        port=$(configured_port "$tier")
        if [[ -f $(state_file "$tier") ]]; then
            sport=$(state_get "$tier" port)
            sdir=$(state_get "$tier" dir)
            if private_running "$tier" "$sdir"; then
                [[ $sport == "$port" ]] ||
                    die "$tier: private instance already runs on $HOST:$sport, not $port; run 'down' first"
                "${tier}_start" "$port" "$sdir" # confirms readiness, creates the db if missing
                say "$tier: up at $HOST:$port (started by this script)"
                continue
            fi
            rm -f "$(state_file "$tier")" # it died (reboot?): start afresh below, data is kept
        fi
        if tier_probe "$tier" "$port"; then
            create_db "$tier" "$port"
            say "$tier: reusing $HOST:$port (not started by this script)"
            continue
        fi
        port_in_use "$port" &&
            die "$tier: port $port is in use but does not answer as $tier; set MESSAGESTORE_TIERS_${tier^^}_PORT"
        to_start+=("$tier")
    done
    ((${#to_start[@]} > 0)) || return 0

    ensure_packages server "${to_start[@]}"
    for tier in "${to_start[@]}"; do
        port=$(configured_port "$tier")
        # Where packages start their own services, installing one may have just done so.
        if tier_probe "$tier" "$port"; then
            create_db "$tier" "$port"
            say "$tier: reusing $HOST:$port (service started by its package, not by this script)"
            continue
        fi
        sdir=$TIERS_DIR/$tier
        "${tier}_start" "$port" "$sdir"
        {
            echo "port=$port"
            echo "dir=$sdir"
            if [[ $tier == clickhouse ]]; then echo "tcp_port=$CH_TCP_PORT"; fi
        } >"$(state_file "$tier")"
        say "$tier: started private instance at $HOST:$port (data in $sdir)"
    done
}

cmd_down() {
    [[ -d $TIERS_DIR ]] || { say "nothing was started by this script"; return 0; }
    exec 9>"$TIERS_DIR/.lock"
    flock 9
    local tier port
    for tier in "${TIERS[@]}"; do
        if [[ -f $(state_file "$tier") ]]; then
            port=$(state_get "$tier" port)
            "${tier}_stop" "$(state_get "$tier" dir)"
            rm -f "$(state_file "$tier")"
            say "$tier: stopped private instance on $HOST:$port"
        else
            say "$tier: not started by this script, left alone"
        fi
    done
}

cmd_status() {
    local tier port reach origin rc=0 extra
    for tier in "${TIERS[@]}"; do
        port=$(effective_port "$tier")
        if [[ -n $(client_packages "$tier") ]]; then
            reach="unknown"
            rc=1
        elif tier_probe "$tier" "$port"; then
            reach="reachable"
        else
            reach="UNREACHABLE"
            rc=1
        fi
        if [[ -f $(state_file "$tier") ]]; then
            origin="started by this script (data in $(state_get "$tier" dir))"
            extra=$(state_get "$tier" tcp_port || true)
            [[ -z $extra ]] || origin+=", native tcp $extra"
        elif [[ $reach == reachable ]]; then
            origin="reused, not started by this script"
        else
            origin="not started by this script"
        fi
        [[ $reach != unknown ]] || origin+="; client tools missing (run up)"
        printf '%-11s %-12s %-16s %s\n' "$tier" "$reach" "$HOST:$port" "$origin"
    done
    return "$rc"
}

cmd_env() {
    echo "export MESSAGESTORE_REDIS_URI=redis://$HOST:$(effective_port redis)"
    echo "export MESSAGESTORE_POSTGRES_URL=postgresql://$HOST:$(effective_port postgres)/$DB_NAME"
    echo "export MESSAGESTORE_POSTGRES_USER=postgres"
    echo "export MESSAGESTORE_CLICKHOUSE_URL=http://$HOST:$(effective_port clickhouse)"
}

# start-private TIER PORT DIR: same start code as `up`, on a caller-chosen port and directory.
cmd_start_private() {
    (($# == 3)) || usage
    local tier=$1 port=$2 dir
    check_tier "$tier"
    check_port "$port"
    dir=$(realpath -m "$3")
    QUIET=1
    ensure_packages client "$tier"
    ensure_packages server "$tier"
    "${tier}_start" "$port" "$dir"
}

cmd_stop_private() {
    (($# == 2)) || usage
    check_tier "$1"
    QUIET=1
    "${1}_stop" "$(realpath -m "$2")"
}

cmd_kill_private() {
    (($# == 2)) || usage
    check_tier "$1"
    QUIET=1
    "${1}_kill" "$(realpath -m "$2")"
}

main() {
    (($# >= 1)) || usage
    local cmd=$1
    shift
    case $cmd in
        up) (($# == 0)) || usage; cmd_up ;;
        down) (($# == 0)) || usage; cmd_down ;;
        status) (($# == 0)) || usage; cmd_status ;;
        env) (($# == 0)) || usage; cmd_env ;;
        start-private) cmd_start_private "$@" ;;
        stop-private) cmd_stop_private "$@" ;;
        kill-private) cmd_kill_private "$@" ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
