#!/usr/bin/env python3
"""Benchmarks of the gateway, measured with the project's load tester (bin/messagestore-loadtest).

    scripts/bench.py writes   # issue 4: Health/Check baseline, SendMessage cache and durable,
                              #          failover sends (Redis unreachable); issue 22: pgbench's
                              #          one-row INSERT tps, before and after the gateways, as the
                              #          baseline of the ratios (their mean)
                              #          (BENCH_WRITES=failover: pgbench, no-op, cache and failover
                              #          sends only; BENCH_FAILOVER_COMMITTERS="2 4": a failover
                              #          gateway per MESSAGESTORE_FAILOVER_COMMITTERS value);
                              #          the persistence lag flat out and at a steady half of
                              #          the cache rate (open loop, BENCH_LAG_SHARE)
    scripts/bench.py reads    # issue 5: Health/Check baseline, GetMessage hot/cold/Redis outage,
                              #          ListMessages(50) hot/cold and of short threads
    scripts/bench.py archive  # issue 17: archive throughput alone, cache sends with and without the
                              #          archiver moving a backlog, GetThreadStats (ClickHouse);
                              #          on a PostgreSQL and ClickHouse database of its own
    scripts/bench.py runstate # issue 19: PutRunState (CHECKPOINT_NONE, 4 KiB) against cache sends, hot
                              #          GetRunState against hot GetMessage, CHECKPOINT_CRITICAL against
                              #          durable sends, all on one gateway in the same run
    scripts/bench.py watch    # issue 18: WatchThread across two gateways (senders on A, watchers on B):
                              #          cache sends with 0 and 1,000 watchers of the thread, delivery
                              #          delay at 1,000 sends/s with 1, 100 and 1,000 watchers, heap
                              #          per idle watcher with 10,000 of them over 1,000 threads
    scripts/bench.py sdk      # issue 21: SendMessage (cache) through the client SDK's async API
                              #          (examples' SdkLoadDriver) against the load tester, same
                              #          calls, same gateway, interleaved in one run: sends/s and
                              #          the gateway's own p99 of SendMessage
    scripts/bench.py consistency
                              # issue 20: CheckConsistency messages checked per second for a thread
                              #          scope and a window scope (20,000 messages), and cache sends
                              #          while checks run back to back against sends alone
    scripts/bench.py tail     # issue 22: tail latency at a steady 1,000 calls/s (open loop) of the
                              #          no-op and of cache sends, and safepoint pauses, once per
                              #          garbage collector (BENCH_COLLECTORS="G1 Z Shenandoah Parallel")
    scripts/bench.py drivers  # issue 22: the PostgreSQL driver A/B (benchmarks/DriverAb): the
                              #          persisters' batch commit, one-message commits and cold reads by
                              #          id, the gateway's own statements through pgjdbc on a blocking
                              #          pool and through r2dbc-postgresql with r2dbc-pool, two rounds
                              #          in opposite orders
    scripts/bench.py memory   # Redis memory per thread, message, idempotency key and unpersisted
                              #          stream entry, PostgreSQL bytes per message and thread,
                              #          ClickHouse bytes per archived message
                              #          (OPERATIONS.md's sizing), on a redis-server of its own
                              #          (BENCH_MEMORY_THREADS, BENCH_MEMORY_MESSAGES)
    scripts/bench.py quick    # the hot cases on one gateway (no-op, GetMessage, ListMessages,
                              #          cache send): a few minutes, for checking a change
    scripts/bench.py profile [noop|get|list|send|durable ...]
                              # where the gateway's CPU goes per hot call type: async-profiler
                              #          (from Maven Central) attached after the warm-up,
                              #          collapsed stacks and the heaviest frames
                              #          (BENCH_PROFILE_EVENT=wall: wall-clock samples by thread;
                              #          BENCH_PROFILE_RPS=1000: at that steady rate, stacks
                              #          by thread)
    scripts/bench.py ab A.jar B.jar [ROUNDS]
                              # before/after: gateways from two builds side by side, each on a
                              #          Redis database of its own (so each one's persisters see
                              #          only its own streams), the no-op and the chosen cases
                              #          interleaved for ROUNDS rounds (default 3); means
                              #          (BENCH_AB_CASES=get,list,threads,cache,durable,keyed picks the cases;
                              #          BENCH_AB_SETTINGS_A / _B="KEY=VALUE ..." set one gateway's settings;
                              #          BENCH_AB_EXTRA="--rps 1000" runs the measured rounds open loop)

BENCH_SETTINGS="KEY=VALUE ..." sets gateway settings for every gateway a command starts (e.g.
BENCH_SETTINGS=MESSAGESTORE_PERSISTER_LINGER=20ms scripts/bench.py tail).

Every case runs back to back in one invocation against gateways started here, after a warm-up,
so ratios against the Health/Check baseline of the same run hold on a noisy shared machine.
The gateway's CPU per call is the user+system time of its threads (/proc/PID/task/*/stat) over
the run, divided by the calls the run made; the JIT compiler threads are reported in a column of
their own, since compiling is a one-time cost that a short run on 2 cores never finishes.
Redis and PostgreSQL CPU per call, and the whole machine's, come from /proc the same way; the
load tester's own CPU from the waited-for child's rusage. The load tester's start-up (about 5 s
of CPU outside the measured window, see tool_startup) is measured once per call and taken out of
the load tester and machine columns. Each
run uses thread names of its own and removes its Redis keys and PostgreSQL rows at the end.
Results print as a Markdown table for docs/BENCHMARKS.md.
"""
import json
import os
import resource
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
DURATION = os.environ.get("BENCH_DURATION", "15s")
WARMUP = os.environ.get("BENCH_WARMUP", "15s")
# Warm-up rounds over all cases: C2 keeps compiling gRPC, Netty, lettuce and pgjdbc paths for a
# minute or more on 2 cores, and that one-time cost would otherwise land in the first cases.
WARMUP_ROUNDS = int(os.environ.get("BENCH_WARMUP_ROUNDS", "2"))


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True, cwd=ROOT, **kw).stdout


def tier_env():
    sh("scripts/local-tiers.sh up")
    env = {}
    for line in sh("scripts/local-tiers.sh env").splitlines():
        m = re.match(r"export (\w+)=['\"]?([^'\"]*)['\"]?", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Gateway:
    def __init__(self, name, env, extra=None, jar=None):
        self.name = name
        self.port = free_port()
        self.metrics_port = free_port()
        e = {k: v for k, v in os.environ.items() if not k.startswith("MESSAGESTORE_")}
        e.update(env)
        # BENCH_SETTINGS="MESSAGESTORE_PERSISTER_LINGER=20ms ...": settings of every gateway of the run.
        e.update(dict(kv.split("=", 1) for kv in os.environ.get("BENCH_SETTINGS", "").split()))
        e.update({"MESSAGESTORE_GRPC_PORT": str(self.port), "MESSAGESTORE_METRICS_PORT": str(self.metrics_port),
                  "MESSAGESTORE_JWT_SECRET": SECRET})
        e.update(extra or {})
        self.log = open(os.path.join(tempfile.gettempdir(), f"bench-gateway-{name}.log"), "w")
        jvm = os.environ.get("BENCH_JVM_OPTS", "").split()
        jar = jar or os.environ.get("BENCH_SERVER_JAR", "server/target/messagestore-server.jar")
        self.proc = subprocess.Popen(["java", "-Xms512m", "-Xmx512m"] + jvm + ["-jar", jar],
                                     cwd=ROOT, env=e, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=1).read()
                return
            except Exception:
                if self.proc.poll() is not None:
                    raise SystemExit(f"gateway {name} exited; see {self.log.name}")
                time.sleep(0.2)
        raise SystemExit(f"gateway {name} did not start; see {self.log.name}")

    def cpu_seconds(self):
        """(CPU of all threads but the JIT compilers, CPU of the JIT compilers, CPU of the event
        loops), in seconds. The event loops (io-loop-*) run every call, and also the Redis I/O
        of the request-path and near-cache connections (the persisters' follow-up trims
        included; their stream reads have an I/O thread of their own); the persister threads,
        the blocking pool, lettuce's helpers and the GC are the rest of the first number."""
        work = jit = loops = 0
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                name = open(f"/proc/{self.proc.pid}/task/{tid}/comm").read()
                f = open(f"/proc/{self.proc.pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks = int(f[11]) + int(f[12])
            if "CompilerThre" in name:
                jit += ticks
            else:
                work += ticks
                if name.startswith("io-loop"):
                    loops += ticks
        return work / CLK_TCK, jit / CLK_TCK, loops / CLK_TCK

    def metrics(self, name=None):
        query = f"?name[]={name}" if name else ""
        return urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics{query}", timeout=5).read().decode()

    def metric_sum(self, name, labels=""):
        total = 0.0
        # Only the named family: a full scrape formats every histogram, twice a second while
        # HeapSampler polls, and that would land in the gateway's CPU per call.
        # The filter takes family names: a counter's family has no "_total", a summary's series
        # end in "_count", "_sum" and "_max".
        family = re.sub(r"_(total|count|sum|max)$", "", name)
        for line in self.metrics(family).splitlines():
            if line.startswith(name) and labels in line and not line.startswith("#"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def await_drained(self, within, poll=0.5, since=None):
        """Waits until the persisters have committed everything in the shard streams (the backlog
        gauge at 0), at most `within` seconds from `since` (default now); the seconds waited."""
        start = time.time() if since is None else since
        while self.metric_sum("messagestore_stream_backlog") > 0 and time.time() - start < within:
            time.sleep(poll)
        return time.time() - start

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def token(user="bench"):
    return sh(f"MESSAGESTORE_JWT_SECRET={SECRET} bin/messagestore-server token --sub {user} --ttl 2h").strip()


def run_tool(gw, call, data, limit, extra="", out=None):
    """One run of the load tester against gw; limit is ["-z", duration] or ["-n", calls]."""
    md = json.dumps({"authorization": "Bearer " + token()})
    data_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    data_file.write(data)
    data_file.close()
    subprocess.run(["bin/messagestore-loadtest", "--insecure", "--call", call, "-D", data_file.name, "-m", md,
                    "-c", str(CONCURRENCY), "--progress", "never", "-O", "json"] + limit
                   + (["-o", out] if out else []) + extra.split() + [f"127.0.0.1:{gw.port}"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


_startup = {}


def tool_startup(gw, call, data):
    """(machine CPU, load tester CPU) in seconds that one load tester run spends outside its
    measured window: JVM start, JIT, its own warm-up against a local stand-in, the report. About
    5 s on 2 cores, the same for every run whatever its length, so it is measured once per call
    (a run of a single call) and taken out of the per-call columns: spread over a 15 s case it
    would otherwise add 3-30 µs to every call, more to the slower cases."""
    key = (gw.port, call)
    if key not in _startup:
        busy0, tool0 = machine_busy_seconds(), children_cpu_seconds()
        run_tool(gw, call, data, ["-n", "1"])
        _startup[key] = (machine_busy_seconds() - busy0, children_cpu_seconds() - tool0)
    return _startup[key]


def loadtest(gw, call, data, duration=DURATION, extra=""):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    startup_machine, startup_tool = tool_startup(gw, call, data)
    heap = HeapSampler(gw)
    heap.start()
    work0, jit0, loops0 = gw.cpu_seconds()
    busy0 = machine_busy_seconds()
    tiers0 = tier_cpu_seconds()
    tool0 = children_cpu_seconds()
    run_tool(gw, call, data, ["-z", duration], extra, out)
    tool = children_cpu_seconds() - tool0 - startup_tool
    work1, jit1, loops1 = gw.cpu_seconds()
    busy = machine_busy_seconds() - busy0 - startup_machine
    tiers1 = tier_cpu_seconds()
    cpu, jit = work1 - work0, jit1 - jit0
    heap.stop()
    report = json.load(open(out))
    ok = report.get("statusCodeDistribution", {}).get("OK", 0)
    lat = {int(p["percentage"]): p["latency"] / 1e6 for p in report["latencyDistribution"]}
    return {"rps": report["rps"], "count": report["count"], "ok": ok, "p50": lat.get(50), "p95": lat.get(95),
            "p99": lat.get(99), "cpu_us": cpu / max(1, report["count"]) * 1e6,
            "jit_us": jit / max(1, report["count"]) * 1e6, "heap_mb": heap.max_mb,
            "loops_us": (loops1 - loops0) / max(1, report["count"]) * 1e6,
            "machine_us": busy / max(1, report["count"]) * 1e6,
            "tool_us": tool / max(1, report["count"]) * 1e6,
            "watch": report.get("watch"),
            "redis_us": (tiers1["redis-server"] - tiers0["redis-server"]) / max(1, report["count"]) * 1e6,
            "postgres_us": (tiers1["postgres"] - tiers0["postgres"]) / max(1, report["count"]) * 1e6,
            "errors": report.get("errorDistribution", {})}


def tier_cpu_seconds():
    """CPU time of the Redis and PostgreSQL server processes (all of them: Redis is shared)."""
    out = {"redis-server": 0, "postgres": 0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            st = open(f"/proc/{pid}/stat").read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        if name in out:
            f = st.rsplit(")", 1)[1].split()
            out[name] += int(f[11]) + int(f[12])
    return {k: v / CLK_TCK for k, v in out.items()}


def children_cpu_seconds():
    """CPU time of the waited-for child processes so far: the load tester's runs (and the short
    helper commands, which cost nothing next to a run of millions of calls)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def machine_busy_seconds():
    """CPU time all processes spent (user, nice, system, irq, softirq, steal), from /proc/stat."""
    f = open("/proc/stat").readline().split()
    return sum(int(x) for x in (f[1], f[2], f[3], f[6], f[7], f[8])) / CLK_TCK


class HeapSampler(threading.Thread):
    """Largest JVM heap in use while a run lasts, from the gateway's own metrics."""

    def __init__(self, gw):
        super().__init__(daemon=True)
        self.gw = gw
        self.max_mb = 0.0
        self.running = True

    def run(self):
        while self.running:
            try:
                used = self.gw.metric_sum("jvm_memory_used_bytes", 'area="heap"')
                self.max_mb = max(self.max_mb, used / 2**20)
            except Exception:
                pass
            time.sleep(0.5)

    def stop(self):
        self.running = False
        self.join()


def histogram_quantile(gw, name, q, before):
    """q-quantile of a Prometheus histogram's increase since `before` (bucket -> count)."""
    now = buckets(gw, name)
    inc = sorted(((le, now[le] - before.get(le, 0)) for le in now), key=lambda x: x[0])
    total = inc[-1][1] if inc else 0
    if total == 0:
        return None
    for le, c in inc:
        if c >= q * total:
            return le * 1000
    return None


def buckets(gw, name):
    out = {}
    for line in gw.metrics().splitlines():
        if line.startswith(name + "_bucket"):
            le = re.search(r'le="([^"]+)"', line).group(1)
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def row(name, r, base):
    return (f"| {name} | {r['rps']:.0f} | {r['rps'] / base['rps']:.2f} | {r['p50']:.2f} | {r['p95']:.2f} | "
            f"{r['p99']:.2f} | {r['p99'] / base['p99']:.2f} | {r['cpu_us']:.0f} | {r['cpu_us'] / base['cpu_us']:.2f} | "
            f"{r['loops_us']:.0f} | {r['loops_us'] / base['loops_us']:.2f} | "
            f"{r['jit_us']:.0f} | {r['redis_us']:.0f} | {r['postgres_us']:.0f} | {r['tool_us']:.0f} | "
            f"{r['machine_us']:.0f} | {r['machine_us'] / base['machine_us']:.2f} | "
            f"{r['heap_mb']:.0f} | {r['count'] - r['ok']:.0f} |")


HEADER = ("| case | calls/s | x no-op | p50 ms | p95 ms | p99 ms | p99 x no-op | gateway CPU µs/call | CPU x no-op "
          "| event loops µs/call | loops x no-op "
          "| JIT µs/call | Redis µs/call | PostgreSQL µs/call | load tool µs/call | machine CPU µs/call "
          "| machine x no-op | max heap MB | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
HEALTH = "grpc.health.v1.Health/Check"
SEND = "messagestore.v1.MessageStore/SendMessage"
# Thread names carry the run's id: each run reads only its own data, and removes it at the end.
RUN = str(int(time.time()))
SEND_DATA = ('{"thread_id":"bench-w-' + RUN + '-{{randomInt 0 50}}","role":"ROLE_USER","content":"{{randomString 512}}"%s}')
# Every send with a key of its own: the key's Redis entry, its stream field and its PostgreSQL
# column and index entry, without duplicates.
KEYED_SEND_DATA = SEND_DATA % ',"idempotency_key":"{{randomString 24}}"'


def machine():
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
    return f"{os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"


def pgbench_binary():
    """pgbench from PATH or the Debian PostgreSQL packages; installed with apt-get when missing."""
    import glob
    import shutil
    found = shutil.which("pgbench") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))[::-1]), None)
    if found:
        return found
    subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client",
                   shell=True, check=True, stdout=subprocess.DEVNULL)
    return shutil.which("pgbench") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))[-1]


PGBENCH_TABLE = f"bench_pgbench_{RUN}"
# One 512-byte message per transaction into a table shaped like `messages`: a time-ordered
# uuid key (48 bits of milliseconds, then random, like the gateway's UUIDv7), the thread, the
# content, the creation time, and the (thread_id, message_id) index.
PGBENCH_SCRIPT = (f"INSERT INTO {PGBENCH_TABLE} (message_id, thread_id, content) VALUES ("
                  "(lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')"
                  " || substr(md5(random()::text), 1, 20))::uuid,"
                  " 'bench-p-' || (random() * 50)::int, repeat('y', 512));\n")


def pgbench(env, duration=DURATION, warmup=WARMUP):
    """tps of pgbench inserting one 512-byte row per transaction, CONCURRENCY clients and 2
    threads, into a table of its own in the gateway's database (dropped after): what a service
    writing each message straight to PostgreSQL could do at best on this machine."""
    m = re.match(r"(?:jdbc:)?postgresql://([^:/]+)(?::(\d+))?/([^?]+)", env["MESSAGESTORE_POSTGRES_URL"])
    host, port, db = m.group(1), m.group(2) or "5432", m.group(3)
    user = env.get("MESSAGESTORE_POSTGRES_USER", "postgres")
    psql = f"psql -h {host} -p {port} -U {user} -At -d {db} -c"
    sh(f"{psql} 'CREATE TABLE {PGBENCH_TABLE} (message_id uuid PRIMARY KEY, thread_id text NOT NULL, "
       f"content text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())'")
    sh(f"{psql} 'CREATE INDEX ON {PGBENCH_TABLE} (thread_id, message_id)'")
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    script.write(PGBENCH_SCRIPT)
    script.close()
    binary = pgbench_binary()

    def run(d):
        out = sh(f"{binary} -n -c {CONCURRENCY} -j 2 -T {max(1, round(seconds(d)))} -f {script.name} "
                 f"-h {host} -p {port} -U {user} {db}")
        return float(re.search(r"tps = ([0-9.]+) \((?:without initial connection time|excluding connections)", out)
                     .group(1))
    try:
        # A checkpoint now, not one that an earlier phase left due landing in this measurement
        # (a previous run's clean-up deletes hundreds of thousands of rows).
        sh(f"{psql} 'CHECKPOINT'")
        run(warmup)
        # Machine CPU only: PostgreSQL's per-process CPU cannot be read here, since pgbench's
        # backends exit with their connections, taking their counters along.
        busy0 = machine_busy_seconds()
        tps = run(duration)
        return {"tps": tps, "machine_us": (machine_busy_seconds() - busy0) / (tps * seconds(duration)) * 1e6}
    finally:
        sh(f"{psql} 'DROP TABLE IF EXISTS {PGBENCH_TABLE}'")


def writes():
    """All cases, or with BENCH_WRITES=failover only pgbench, the no-op, cache sends and the
    failover sends (the issue 22 before/after runs)."""
    only_failover = os.environ.get("BENCH_WRITES", "all") == "failover"
    env = tier_env()
    load = os.getloadavg()
    pg_insert = pgbench(env)
    durable = keyed = lag_p99 = drain = steady = steady_rps = steady_lag_p99 = None
    gw = Gateway("writes", env)
    try:
        warm = [(HEALTH, "{}"), (SEND, SEND_DATA % "")]
        if not only_failover:
            warm.append((SEND, SEND_DATA % ',"durability":"DURABILITY_DURABLE"'))
        for _ in range(WARMUP_ROUNDS):
            for call, data in warm:
                loadtest(gw, call, data, duration=WARMUP)
        base = loadtest(gw, HEALTH, "{}")
        lag_before = buckets(gw, "messagestore_persistence_lag_seconds")
        cache = loadtest(gw, SEND, SEND_DATA % "")
        lag_p99 = histogram_quantile(gw, "messagestore_persistence_lag_seconds", 0.99, lag_before)
        drain = gw.await_drained(60, poll=0.1)
        # Flat out, the lag is queueing: a round holds what arrived while the one before committed,
        # on cores that every process shares. Also at a steady half the rate just measured (open
        # loop, BENCH_LAG_SHARE): the lag when the callers do not saturate the machine by themselves.
        steady_rps = int(cache["rps"] * float(os.environ.get("BENCH_LAG_SHARE", "0.5")))
        lag_before = buckets(gw, "messagestore_persistence_lag_seconds")
        steady = loadtest(gw, SEND, SEND_DATA % "", extra=f"--rps {steady_rps}")
        steady_lag_p99 = histogram_quantile(gw, "messagestore_persistence_lag_seconds", 0.99, lag_before)
        gw.await_drained(60, poll=0.1)
        if not only_failover:
            durable = loadtest(gw, SEND, SEND_DATA % ',"durability":"DURABILITY_DURABLE"')
            keyed = loadtest(gw, SEND, KEYED_SEND_DATA)
        base2 = loadtest(gw, HEALTH, "{}")
    finally:
        gw.stop()
    # Redis unreachable: the same gateway writes every message straight to PostgreSQL (the
    # failover path; since issue 22 group-committed with concurrent failover sends). With
    # BENCH_FAILOVER_COMMITTERS="2 4", one such gateway per MESSAGESTORE_FAILOVER_COMMITTERS value,
    # one after the other in this run (the same pgbench and no-op baselines).
    failovers = []
    for committers in os.environ.get("BENCH_FAILOVER_COMMITTERS", "").split() or [None]:
        extra = {"MESSAGESTORE_REDIS_URI": f"redis://127.0.0.1:{free_port()}"}
        if committers:
            extra["MESSAGESTORE_FAILOVER_COMMITTERS"] = committers
        sync = Gateway("sync-postgres", env, extra)
        try:
            for _ in range(WARMUP_ROUNDS):
                loadtest(sync, SEND, SEND_DATA % "", duration=WARMUP)
            groups0 = (sync.metric_sum("messagestore_write_failover_group_messages_count"),
                       sync.metric_sum("messagestore_write_failover_group_messages_sum"))
            pg = loadtest(sync, SEND, SEND_DATA % "")
            groups = (sync.metric_sum("messagestore_write_failover_group_messages_count") - groups0[0],
                      sync.metric_sum("messagestore_write_failover_group_messages_sum") - groups0[1])
        finally:
            sync.stop()
        failovers.append((committers, pg, groups))
    # The baseline drifts too (a checkpoint, the host's other tenants): pgbench again after the
    # gateways, and the ratios against the mean of its two runs.
    pg_again = pgbench(env)
    print(f"machine: {machine()}; {CONCURRENCY} concurrent callers, {DURATION} per case after {WARMUP} warm-up; "
          f"load average before the run {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")
    print(HEADER)
    print(row("Health/Check (no-op baseline)", base, base))
    print(row("SendMessage DURABILITY_CACHE", cache, base))
    print(row(f"SendMessage DURABILITY_CACHE at a steady {steady_rps}/s (open loop)", steady, base))
    if not only_failover:
        print(row("SendMessage DURABILITY_DURABLE", durable, base))
        print(row("SendMessage DURABILITY_CACHE with an idempotency key", keyed, base))
    for committers, pg, _ in failovers:
        label = "" if committers is None else f", {committers} committers"
        print(row(f"SendMessage, Redis down (failover to PostgreSQL){label}", pg, base))
    print(row("Health/Check again (drift check)", base2, base))
    tps = (pg_insert["tps"] + pg_again["tps"]) / 2
    print(f"\npgbench, one 512-byte INSERT per transaction, {CONCURRENCY} clients: {pg_insert['tps']:.0f} tps "
          f"before the gateways, {pg_again['tps']:.0f} after (drift {pg_again['tps'] / pg_insert['tps']:.2f}), "
          f"mean {tps:.0f} (machine CPU {pg_insert['machine_us']:.0f} and {pg_again['machine_us']:.0f} µs/row, "
          f"pgbench's own included); the ratios below are against the mean")
    print(f"cache sends / pgbench: {cache['rps'] / tps:.2f} (target >= 2)"
          + ("" if only_failover else f"; durable sends / pgbench: {durable['rps'] / tps:.2f} (target >= 1.2)"))
    for committers, pg, groups in failovers:
        label = "" if committers is None else f" ({committers} committers)"
        print(f"failover{label} sends / pgbench: {pg['rps'] / tps:.2f} (target >= 1); "
              f"failover gateway CPU {pg['cpu_us']:.0f} µs/send (target <= 150); "
              f"failover p99 / cache p99: {pg['p99'] / cache['p99']:.2f} (target <= 3)")
        if groups[0] > 0:
            print(f"failover{label} group commits: {groups[0]:.0f}, {groups[1] / groups[0]:.1f} messages per commit")
    print(f"persistence lag p99 during the cache run: {lag_p99:.1f} ms (gateway histogram bucket bound); "
          f"backlog back to 0 {drain:.1f} s after the run")
    print(f"persistence lag p99 at a steady {steady_rps} sends/s (open loop): {steady_lag_p99:.1f} ms "
          f"(target < 100)")
    if not only_failover:
        print(f"durable / cache throughput: {durable['rps'] / cache['rps']:.2f}; "
              f"keyed / cache throughput: {keyed['rps'] / cache['rps']:.2f}")
    print(f"cache / failover throughput: {cache['rps'] / failovers[0][1]['rps']:.2f}")


def populate(gw, prefix, threads, per_thread):
    """Threads prefix-0 .. prefix-(threads-1) with per_thread 512-byte messages each, written
    with SendMessageBatch as user "bench"."""
    batch = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    # A file, not -d: a batch of 500 messages is longer than one command-line argument may be.
    json.dump({"thread_id": prefix + "-{{.RequestNumber}}", "messages": [
        {"role": "ROLE_USER", "content": "x" * 512} for _ in range(per_thread)]}, batch)
    batch.close()
    subprocess.run(["bin/messagestore-loadtest", "--insecure", "--call", "messagestore.v1.MessageStore/SendMessageBatch",
                    "-D", batch.name, "-m", json.dumps({"authorization": "Bearer " + token()}), "-c", "5",
                    "-n", str(threads), "--progress", "never", f"127.0.0.1:{gw.port}"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


SHORT_THREAD = 10


def drop_thread_start_markers(threads, shards=4):
    """Removes the empty member send.lua puts into a new thread's recent index (key layout as in
    RedisKeys: shard = crc32(thread id) mod shards)."""
    for t in threads:
        sh(f"redis-cli ZREM 'ms:{{s{zlib.crc32(t.encode()) % shards}}}:t:{t}:recent' ''")


def reads():
    env = tier_env()
    threads, per_thread = 50, 200
    gw = Gateway("reads-hot", env)
    try:
        populate(gw, f"bench-r-{RUN}", threads, per_thread)
        populate(gw, f"bench-s-{RUN}", threads, SHORT_THREAD)
        gw.await_drained(60, poll=0.2)
        ids = sh("psql -h 127.0.0.1 -U postgres -At -d messagestore -c "
                 f"\"SELECT thread_id || ' ' || message_id FROM messages WHERE thread_id LIKE 'bench-r-{RUN}-%' "
                 "AND user_id = 'bench' ORDER BY random() LIMIT 2000\"").split()
        pairs = [{"thread_id": ids[i], "message_id": ids[i + 1]} for i in range(0, len(ids), 2)]
        get_data = json.dumps(pairs)
        hot_list = json.dumps([{"thread_id": f"bench-r-{RUN}-{i}", "page_size": 50, "newest_first": True} for i in range(threads)])
        cold_list = json.dumps([{"thread_id": f"bench-r-{RUN}-{i}", "page_size": 50} for i in range(threads)])
        # Short threads: their recent index holds them whole (the thread-start marker).
        short_list = json.dumps([{"thread_id": f"bench-s-{RUN}-{i}", "page_size": 50, "newest_first": True}
                                 for i in range(threads)])
        # The long threads fit the window too; for their first pages to come from PostgreSQL,
        # their indexes must not claim to hold them whole. (Pages of 50 out of 200 are never short,
        # so no read puts the marker back.)
        drop_thread_start_markers([f"bench-r-{RUN}-{i}" for i in range(threads)])
        list_call = "messagestore.v1.MessageStore/ListMessages"
        for _ in range(WARMUP_ROUNDS):
            for call, data in [(HEALTH, "{}"), ("messagestore.v1.MessageStore/GetMessage", get_data),
                               (list_call, hot_list), (list_call, cold_list), (list_call, short_list)]:
                loadtest(gw, call, data, duration=WARMUP)
        base = loadtest(gw, HEALTH, "{}")
        hot = loadtest(gw, "messagestore.v1.MessageStore/GetMessage", get_data)
        list_hot = loadtest(gw, list_call, hot_list)
        list_cold = loadtest(gw, list_call, cold_list)
        list_short = loadtest(gw, list_call, short_list)
    finally:
        gw.stop()
    # Cold: message keys gone from Redis and refills expiring at once, so every read goes to PostgreSQL.
    sh(f"redis-cli --scan --pattern 'ms:*:t:bench-r-{RUN}-*:m:*' | xargs -r -n 500 redis-cli del")
    cold_gw = Gateway("reads-cold", env, {"MESSAGESTORE_MESSAGE_TTL": "1ms"})
    try:
        for _ in range(WARMUP_ROUNDS):
            loadtest(cold_gw, HEALTH, "{}", duration=WARMUP)
            loadtest(cold_gw, "messagestore.v1.MessageStore/GetMessage", get_data, duration=WARMUP)
        cold_base = loadtest(cold_gw, HEALTH, "{}")
        cold = loadtest(cold_gw, "messagestore.v1.MessageStore/GetMessage", get_data)
    finally:
        cold_gw.stop()
    # Redis outage: nothing listens on the Redis port; the breaker opens and reads skip Redis.
    out_gw = Gateway("reads-redis-down", env, {"MESSAGESTORE_REDIS_URI": f"redis://127.0.0.1:{free_port()}"})
    try:
        for _ in range(WARMUP_ROUNDS):
            loadtest(out_gw, "messagestore.v1.MessageStore/GetMessage", get_data, duration=WARMUP)
        outage = loadtest(out_gw, "messagestore.v1.MessageStore/GetMessage", get_data)
    finally:
        out_gw.stop()
    print(f"machine: {machine()}; {CONCURRENCY} concurrent callers, {DURATION} per case after {WARMUP} warm-up; "
          f"{threads} threads x {per_thread} messages of 512 B\n")
    print(HEADER)
    print(row("Health/Check (no-op baseline)", base, base))
    print(row("GetMessage hot (Redis)", hot, base))
    print(row("GetMessage cold (PostgreSQL)", cold, base))
    print(row("Health/Check on the cold gateway (its own baseline)", cold_base, base))
    print(row("GetMessage during Redis outage", outage, base))
    print(row("ListMessages 50 hot (Redis)", list_hot, base))
    print(row("ListMessages 50 cold (PostgreSQL)", list_cold, base))
    print(row(f"ListMessages 50, thread of {SHORT_THREAD} (Redis alone: thread-start marker)", list_short, base))
    print(f"\nRedis-outage p99 / cold p99: {outage['p99'] / cold['p99']:.2f}")


def populate_hot(gw, prefix, db=0):
    """50 threads of 60 messages for the hot cases; returns up to 2,000 of their (thread, id)
    pairs as found in Redis database db, the GetMessage requests."""
    populate(gw, prefix, 50, 60)
    keys = sh(f"redis-cli -n {db} --scan --pattern 'ms:*:t:{prefix}-*:m:*' | head -2000").split()
    return [{"thread_id": k.split(":t:")[1].split(":m:")[0], "message_id": k.rsplit(":m:", 1)[1]} for k in keys]


def quick():
    """The hot cases only, on one gateway: for checking a change before a full run."""
    env = tier_env()
    gw = Gateway("quick", env)
    try:
        pairs = populate_hot(gw, f"bench-q-{RUN}")
        cases = [("Health/Check (no-op baseline)", HEALTH, "{}"),
                 ("GetMessage hot (Redis)", "messagestore.v1.MessageStore/GetMessage", json.dumps(pairs)),
                 ("ListMessages 50 hot (Redis)", "messagestore.v1.MessageStore/ListMessages",
                  json.dumps([{"thread_id": f"bench-q-{RUN}-{i}", "page_size": 50, "newest_first": True} for i in range(50)])),
                 ("SendMessage DURABILITY_CACHE", SEND, SEND_DATA % "")]
        for _ in range(WARMUP_ROUNDS):
            for _, call, data in cases:
                loadtest(gw, call, data, duration=WARMUP)
        results = [(name, loadtest(gw, call, data)) for name, call, data in cases]
    finally:
        gw.stop()
    print(HEADER)
    for name, r in results:
        print(row(name, r, results[0][1]) if r["p50"] is not None else f"| {name} | failed: {r['errors']} |")


RUN_STATE = "messagestore.v1.MessageStore/PutRunState"
# 4 KiB of state: 5,460 base64 characters (4,095 bytes) and one byte more; the load tester reads
# a bytes field's JSON as base64, and its random strings are alphanumeric, i.e. base64 already.
RUN_STATE_DATA = ('{"run_id":"%s","state":"{{randomString 5460}}AA==","checkpoint":"%s"}')
# 512 bytes (680 characters are 510 bytes, "AAA=" two more): the size of the messages GetMessage reads.
SMALL_RUN_STATE_DATA = ('{"run_id":"%s","state":"{{randomString 680}}AAA="}')


def runstate():
    """Issue 19, one gateway, every case in the same run after the warm-up: PutRunState
    (CHECKPOINT_NONE, 4 KiB) against cache sends, hot GetRunState against hot GetMessage,
    CHECKPOINT_CRITICAL against durable sends. NONE writes go to 50 runs at random, as the sends
    go to 50 threads; each CRITICAL caller writes a run of its own, one write after the other, as
    an agent does (concurrent unconditional writes to one run would take turns in PostgreSQL)."""
    env = tier_env()
    gw = Gateway("runstate", env)
    none_data = RUN_STATE_DATA % (f"bench-x-{RUN}-{{{{randomInt 0 50}}}}", "CHECKPOINT_NONE")
    critical_data = RUN_STATE_DATA % (f"bench-y-{RUN}-{{{{.WorkerID}}}}", "CHECKPOINT_CRITICAL")
    get_runs = json.dumps([{"run_id": f"bench-x-{RUN}-{i}"} for i in range(50)])
    get_small_runs = json.dumps([{"run_id": f"bench-z-{RUN}-{i}"} for i in range(50)])
    try:
        pairs = populate_hot(gw, f"bench-q-{RUN}")
        run_tool(gw, RUN_STATE, SMALL_RUN_STATE_DATA % f"bench-z-{RUN}-{{{{randomInt 0 50}}}}", ["-n", "2000"])
        cases = [("Health/Check (no-op baseline)", HEALTH, "{}"),
                 ("SendMessage DURABILITY_CACHE", SEND, SEND_DATA % ""),
                 ("PutRunState CHECKPOINT_NONE, 4 KiB", RUN_STATE, none_data),
                 ("GetMessage hot (Redis)", "messagestore.v1.MessageStore/GetMessage", json.dumps(pairs)),
                 ("GetRunState hot (Redis), 4 KiB", "messagestore.v1.MessageStore/GetRunState", get_runs),
                 ("GetRunState hot (Redis), 512 B", "messagestore.v1.MessageStore/GetRunState", get_small_runs),
                 ("SendMessage DURABILITY_DURABLE", SEND, SEND_DATA % ',"durability":"DURABILITY_DURABLE"'),
                 ("PutRunState CHECKPOINT_CRITICAL, 4 KiB", RUN_STATE, critical_data)]
        for _ in range(WARMUP_ROUNDS):
            for _, call, data in cases:
                loadtest(gw, call, data, duration=WARMUP)
        results = {name: loadtest(gw, call, data) for name, call, data in cases}
        results["Health/Check again (drift check)"] = loadtest(gw, HEALTH, "{}")
    finally:
        gw.stop()
    base = results["Health/Check (no-op baseline)"]
    print(f"machine: {machine()}; {CONCURRENCY} concurrent callers, {DURATION} per case after {WARMUP} warm-up\n")
    print(HEADER)
    for name, r in results.items():
        print(row(name, r, base) if r["p50"] is not None else f"| {name} | failed: {r['errors']} |")
    ratio = lambda a, b: results[a]["rps"] / results[b]["rps"]
    print(f"\nPutRunState NONE / SendMessage cache: "
          f"{ratio('PutRunState CHECKPOINT_NONE, 4 KiB', 'SendMessage DURABILITY_CACHE'):.2f} (target >= 0.8); "
          f"GetRunState hot / GetMessage hot: "
          f"{ratio('GetRunState hot (Redis), 4 KiB', 'GetMessage hot (Redis)'):.2f} with 4 KiB states, "
          f"{ratio('GetRunState hot (Redis), 512 B', 'GetMessage hot (Redis)'):.2f} with 512-byte ones "
          f"like the messages' (target >= 0.8); "
          f"PutRunState CRITICAL / SendMessage durable: "
          f"{ratio('PutRunState CHECKPOINT_CRITICAL, 4 KiB', 'SendMessage DURABILITY_DURABLE'):.2f} (target >= 0.5)")


TAIL_RPS = int(os.environ.get("BENCH_TAIL_RPS", "1000"))
COLLECTORS = os.environ.get("BENCH_COLLECTORS", "G1 Z Shenandoah Parallel").split()


def safepoint_pauses(log_path, offset):
    """Pause times (ms) of the safepoints logged after byte offset of a -Xlog:safepoint file: every
    stop of the application threads, whatever the collector (GC pauses and the rest)."""
    with open(log_path) as f:
        f.seek(offset)
        text = f.read()
    return [int(m) / 1e6 for m in re.findall(r"Total: (\d+) ns", text)]


def tail():
    """Issue 22: at a steady TAIL_RPS calls per second (open loop: calls start on schedule whether
    or not earlier ones have finished, so a pause shows as the latency it causes), the no-op and
    cache sends, each after a closed-loop warm-up, once per collector; the pauses are the
    JVM's safepoints during the measured sends (-Xlog:safepoint)."""
    env = tier_env()
    out = []
    for collector in COLLECTORS:
        log_path = os.path.join(tempfile.gettempdir(), f"bench-safepoints-{collector}.log")
        if os.path.exists(log_path):
            os.remove(log_path)
        opts = os.environ.get("BENCH_JVM_OPTS", "")
        flag = collector if collector.endswith("GC") else collector + "GC"
        os.environ["BENCH_JVM_OPTS"] = f"{opts} -XX:+Use{flag} -Xlog:safepoint:file={log_path}"
        try:
            gw = Gateway(f"tail-{collector}", env)
        finally:
            os.environ["BENCH_JVM_OPTS"] = opts
        try:
            for _ in range(WARMUP_ROUNDS):
                for call, data in [(HEALTH, "{}"), (SEND, SEND_DATA % "")]:
                    loadtest(gw, call, data, duration=WARMUP)
            steady = f"--rps {TAIL_RPS}"
            noop = loadtest(gw, HEALTH, "{}", extra=steady)
            offset = os.path.getsize(log_path)
            send = loadtest(gw, SEND, SEND_DATA % "", extra=steady)
            pauses = safepoint_pauses(log_path, offset)
        finally:
            gw.stop()
        out.append((collector, noop, send, pauses))
    print(f"machine: {machine()}; open loop at {TAIL_RPS} calls/s for {DURATION} after {WARMUP} closed-loop "
          f"warm-up rounds ({WARMUP_ROUNDS}); heap -Xms512m -Xmx512m\n")
    print("| collector | no-op p50 ms | no-op p99 ms | send p50 ms | send p99 ms | send p99 / no-op p99 "
          "| safepoints | longest pause ms | pauses > 5 ms | gateway CPU µs/send |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for collector, noop, send, pauses in out:
        print(f"| {collector} | {noop['p50']:.2f} | {noop['p99']:.2f} | {send['p50']:.2f} | {send['p99']:.2f} | "
              f"{send['p99'] / noop['p99']:.2f} | {len(pauses)} | {max(pauses, default=0):.2f} | "
              f"{sum(1 for p in pauses if p > 5)} | {send['cpu_us']:.0f} |")


CHECK = "messagestore.v1.MessageStoreAdmin/CheckConsistency"
CONSISTENCY_MESSAGES = int(os.environ.get("BENCH_CONSISTENCY_MESSAGES", "20000"))
# How long the check driver runs before (and after) the sends' window.
CHECK_LEAD_SECONDS = 10


def run_admin_tool(gw, call, data, limit):
    """One load tester run as an admin; returns its report."""
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    admin = sh(f"MESSAGESTORE_JWT_SECRET={SECRET} bin/messagestore-server token --sub ops --role admin --ttl 2h").strip()
    subprocess.run(["bin/messagestore-loadtest", "--insecure", "--call", call, "-d", data,
                    "-m", json.dumps({"authorization": "Bearer " + admin}), "-c", "1", "--timeout", "600s",
                    "--progress", "never", "-O", "json", "-o", out] + limit + [f"127.0.0.1:{gw.port}"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.load(open(out))


def consistency():
    """Issue 20, one gateway: a thread of CONSISTENCY_MESSAGES 512-byte messages (its Redis copies
    still there, so each check compares three tiers), checked by thread and by a window of its
    creation times, one check after the other (messages checked per second = messages / mean
    latency); then cache sends alone, with checks of that thread running back to back beside
    them, and alone again."""
    env = tier_env()
    gw = Gateway("consistency", env, {"MESSAGESTORE_CONSISTENCY_SAMPLE_INTERVAL": "0"})
    thread = f"bench-k-{RUN}-0"
    batch = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({"thread_id": thread, "messages": [{"role": "ROLE_USER", "content": "x" * 512} for _ in range(500)]},
              batch)
    batch.close()
    try:
        start = time.time()
        subprocess.run(["bin/messagestore-loadtest", "--insecure", "--call",
                        "messagestore.v1.MessageStore/SendMessageBatch", "-D", batch.name,
                        "-m", json.dumps({"authorization": "Bearer " + token()}), "-c", "1",
                        "-n", str(CONSISTENCY_MESSAGES // 500), "--progress", "never", f"127.0.0.1:{gw.port}"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        end = time.time()
        gw.await_drained(60)
        stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"
        by_thread = json.dumps({"thread_id": thread})
        by_window = json.dumps({"window_start": stamp(start - 0.001), "window_end": stamp(end + 0.001)})
        checks = {}
        for name, data in (("thread scope", by_thread), ("window scope", by_window)):
            run_admin_tool(gw, CHECK, data, ["-n", "1"])  # warm-up
            report = run_admin_tool(gw, CHECK, data, ["-n", "5"])
            if report.get("statusCodeDistribution", {}).get("OK", 0) != 5:
                raise SystemExit(f"{name} checks failed: {report.get('errorDistribution')}")
            checks[name] = report["average"] / 1e9
        send = ("SendMessage DURABILITY_CACHE", SEND, SEND_DATA % "")
        for _ in range(WARMUP_ROUNDS):
            loadtest(gw, send[1], send[2], duration=WARMUP)
        results = {"Health/Check (no-op baseline)": loadtest(gw, HEALTH, "{}"),
                   "SendMessage DURABILITY_CACHE, alone": loadtest(gw, send[1], send[2])}
        # One load tester runs the checks back to back, started well before the sends' window so
        # that its JVM start-up (seconds of CPU on 2 cores) is not charged to the sends.
        check_report = {}
        checker = threading.Thread(target=lambda: check_report.update(
            run_admin_tool(gw, CHECK, by_thread, ["-z", f"{seconds(DURATION) + CHECK_LEAD_SECONDS * 2:.0f}s"])))
        checker.start()
        time.sleep(CHECK_LEAD_SECONDS)
        results["SendMessage DURABILITY_CACHE, checks running"] = loadtest(gw, send[1], send[2])
        checker.join()
        checked = check_report.get("count", 0)
        results["SendMessage DURABILITY_CACHE, alone again"] = loadtest(gw, send[1], send[2])
    finally:
        gw.stop()
    base = results["Health/Check (no-op baseline)"]
    print(f"machine: {machine()}; {CONCURRENCY} concurrent callers, {DURATION} per case after {WARMUP} warm-up\n")
    for name, seconds_per_check in checks.items():
        print(f"CheckConsistency {name}, {CONSISTENCY_MESSAGES} messages: {seconds_per_check:.2f} s per check, "
              f"{CONSISTENCY_MESSAGES / seconds_per_check:,.0f} messages checked/s")
    print()
    print(HEADER)
    for name, r in results.items():
        print(row(name, r, base) if r["p50"] is not None else f"| {name} | failed: {r['errors']} |")
    alone = (results["SendMessage DURABILITY_CACHE, alone"]["rps"]
             + results["SendMessage DURABILITY_CACHE, alone again"]["rps"]) / 2
    print(f"\ncache sends with checks running / alone (mean of before and after): "
          f"{results['SendMessage DURABILITY_CACHE, checks running']['rps'] / alone:.2f} (target >= 0.9); "
          f"{checked} thread checks ran back to back beside the sends")


ARCHIVE_REDIS_DB = 4


SDK_JAR = "examples/target/messagestore-examples.jar"
SDK_ROUNDS = int(os.environ.get("BENCH_SDK_ROUNDS", "3"))


def send_buckets(gw):
    """Cumulative bucket counts of the gateway's SendMessage latency histogram (le -> count)."""
    out = {}
    for line in gw.metrics("grpc_server_processing_duration_seconds").splitlines():
        if line.startswith("grpc_server_processing_duration_seconds_bucket") and 'method="SendMessage"' in line:
            le = re.search(r'le="([^"]+)"', line).group(1)
            key = float("inf") if le == "+Inf" else float(le)
            out[key] = out.get(key, 0) + float(line.rsplit(" ", 1)[1])
    return out


def quantile_ms(before, after, q):
    inc = sorted(((le, after[le] - before.get(le, 0)) for le in after), key=lambda x: x[0])
    total = inc[-1][1] if inc else 0
    for le, c in inc:
        if total and c >= q * total:
            return le * 1000
    return None


def sdk_run(gw, seconds_, warmup_s, keyed=False, direct=False):
    """One run of the SDK load driver; the gateway's histogram is read when its warm-up ends.
    direct: the client's callbacks run on gRPC's network threads (builder.executor(Runnable::run))."""
    args = ["java", "-XX:+UseSerialGC", "-XX:+PerfDisableSharedMem",
            "-Dio.grpc.netty.shaded.io.netty.leakDetection.level=disabled",
            "-cp", SDK_JAR, "io.messagestore.examples.SdkLoadDriver", f"127.0.0.1:{gw.port}", token(),
            f"bench-w-{RUN}-", str(CONCURRENCY), str(warmup_s), str(seconds_)] + (["keyed"] if keyed else []) \
        + (["direct"] if direct else [])
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    before = None
    result = None
    for line in proc.stdout:
        if line.strip() == "measure-start":
            before = send_buckets(gw)
        elif line.startswith("{"):
            result = json.loads(line)
    if proc.wait() != 0 or result is None or before is None:
        raise SystemExit("SdkLoadDriver failed")
    result["gw_p99"] = quantile_ms(before, send_buckets(gw), 0.99)
    return result


def tool_run(gw, data):
    before = send_buckets(gw)
    r = loadtest(gw, SEND, data)
    return {"rps": r["rps"], "count": r["count"], "errors": r["count"] - r["ok"], "p50_ms": r["p50"],
            "p99_ms": r["p99"], "gw_p99": quantile_ms(before, send_buckets(gw), 0.99)}


DRIVERS_JAR = os.path.join(ROOT, "benchmarks/target/messagestore-benchmarks-0.1.0-SNAPSHOT.jar")


def drivers():
    """Issue 22: pgjdbc against r2dbc-postgresql on the gateway's statements, no gateway running
    (the harness is the only client), against the local PostgreSQL. The harness measures and
    prints its own table; BENCH_DRIVERS_ARGS passes options (--seconds, --cases, --pool ...)."""
    if not os.path.exists(DRIVERS_JAR):
        sh("mvn -B -q -o package -DskipTests -pl benchmarks -am")
    env = tier_env()
    print(machine())
    print("load average before: %s" % open("/proc/loadavg").read().split()[0])
    args = os.environ.get("BENCH_DRIVERS_ARGS", "--seconds %d --warmup %d" % (int(seconds(DURATION)),
                                                                              int(seconds(WARMUP))))
    subprocess.run("java -Xms512m -Xmx512m -jar %s %s" % (DRIVERS_JAR, args), shell=True, check=True, cwd=ROOT,
                   env={**os.environ, **env})


def sdk():
    """Issue 21: what the SDK's async API costs on the hottest write, against the load tester on
    the same calls (SendMessage DURABILITY_CACHE, 512 random characters, 50 threads, 50 closed-loop
    callers), one gateway, after warm-up rounds of both, the two interleaved for BENCH_SDK_ROUNDS
    rounds and averaged. Both report their own calls/s; the p99 compared is the gateway's own
    (grpc_server_processing_duration_seconds for SendMessage over each measured window), the
    same instrument for both. Plain sends (no idempotency key) are the load tester's; the SDK's
    default keyed sends are measured too, against the load tester's keyed sends."""
    if not os.path.exists(SDK_JAR):
        sh("mvn -B -q -o package -DskipTests -pl examples -am")
    env = tier_env()
    gw = Gateway("sdk", env)
    secs = int(seconds(DURATION))
    plain, keyed = SEND_DATA % "", KEYED_SEND_DATA
    rows = {"load tester, plain": [], "SDK async, plain": [], "SDK async, plain, direct executor": [],
            "load tester, keyed": [], "SDK async, keyed": [], "SDK async, keyed, direct executor": []}
    runs = {"load tester, plain": lambda: tool_run(gw, plain),
            "SDK async, plain": lambda: sdk_run(gw, secs, 5),
            "SDK async, plain, direct executor": lambda: sdk_run(gw, secs, 5, direct=True),
            "load tester, keyed": lambda: tool_run(gw, keyed),
            "SDK async, keyed": lambda: sdk_run(gw, secs, 5, keyed=True),
            "SDK async, keyed, direct executor": lambda: sdk_run(gw, secs, 5, keyed=True, direct=True)}
    try:
        for _ in range(WARMUP_ROUNDS):
            loadtest(gw, SEND, plain, duration=WARMUP)
            sdk_run(gw, int(seconds(WARMUP)), 5)
        for r in range(SDK_ROUNDS):
            # Every other round in reverse order: no case always runs on the warmest gateway.
            for name in (list(runs) if r % 2 == 0 else list(reversed(runs))):
                rows[name].append(runs[name]())
    finally:
        gw.stop()
    mean = lambda xs, k: sum(x[k] for x in xs) / len(xs)
    print(f"machine: {machine()}; {CONCURRENCY} concurrent callers, {DURATION} per case after "
          f"{WARMUP_ROUNDS} warm-up rounds, {SDK_ROUNDS} interleaved rounds (means)\n")
    print("| case | sends/s | client p50 ms | client p99 ms | gateway p99 ms | errors | sends/s per round |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in rows.items():
        print(f"| {name} | {mean(rs, 'rps'):.0f} | {mean(rs, 'p50_ms'):.2f} | {mean(rs, 'p99_ms'):.2f} | "
              f"{mean(rs, 'gw_p99'):.2f} | {sum(r['errors'] for r in rs):.0f} | "
              f"{', '.join(str(round(r['rps'])) for r in rs)} |")
    for kind in ("plain", "keyed"):
        for executor in ("", ", direct executor"):
            t, s_ = rows[f"load tester, {kind}"], rows[f"SDK async, {kind}{executor}"]
            print(f"\n{kind}{executor}: SDK / load tester sends/s = {mean(s_, 'rps') / mean(t, 'rps'):.2f} "
                  f"(target >= 0.9); gateway p99 SDK / load tester = {mean(s_, 'gw_p99') / mean(t, 'gw_p99'):.2f}")


def seconds(duration):
    """A load-tester duration such as "15s" or "1m" in seconds."""
    unit = {"s": 1, "m": 60, "h": 3600}[duration[-1]]
    return float(duration[:-1]) * unit
ARCHIVE_MESSAGES = int(os.environ.get("BENCH_ARCHIVE_MESSAGES", "600000"))
ARCHIVE_ALONE_SECONDS = 10


def archive():
    """Issue 17. A backlog of ARCHIVE_MESSAGES messages (512 bytes, 500 per thread) is written
    with archiving off; then cache sends run on a gateway that does not archive and on one that
    archives that backlog meanwhile (same settings otherwise), and the archiver's throughput is
    measured with nothing else running. A database of its own in PostgreSQL and ClickHouse (and
    Redis db 4) keeps the shared test data out of the archive."""
    env = tier_env()
    db = f"msbench_{RUN}"
    sh(f"psql -h 127.0.0.1 -U postgres -At -d postgres -c 'CREATE DATABASE {db}'")
    env["MESSAGESTORE_POSTGRES_URL"] = re.sub(r"/[^/?]+(\?.*)?$", "/" + db, env["MESSAGESTORE_POSTGRES_URL"])
    env["MESSAGESTORE_CLICKHOUSE_DATABASE"] = db
    env["MESSAGESTORE_REDIS_URI"] = env["MESSAGESTORE_REDIS_URI"].rstrip("/") + f"/{ARCHIVE_REDIS_DB}"
    threads = ARCHIVE_MESSAGES // 500
    stats_data = json.dumps([{"thread_id": f"bench-a-{RUN}-{i}"} for i in range(min(threads, 200))])
    try:
        off = Gateway("archive-off", env, {"MESSAGESTORE_HOT_RETENTION": "off"})
        try:
            t0 = time.time()
            populate(off, f"bench-a-{RUN}", threads, 500)
            off.await_drained(600, since=t0)
            for _ in range(WARMUP_ROUNDS):
                for call, data in [(HEALTH, "{}"), (SEND, SEND_DATA % "")]:
                    loadtest(off, call, data, duration=WARMUP)
            base = loadtest(off, HEALTH, "{}")
            sends_off = loadtest(off, SEND, SEND_DATA % "")
            base_off = loadtest(off, HEALTH, "{}")
        finally:
            off.stop()
        on = Gateway("archive-on", env, {"MESSAGESTORE_HOT_RETENTION": "1s", "MESSAGESTORE_ARCHIVE_INTERVAL": "1s"})
        try:
            for _ in range(WARMUP_ROUNDS):
                for call, data in [(HEALTH, "{}"), (SEND, SEND_DATA % "")]:
                    loadtest(on, call, data, duration=WARMUP)
            base_on = loadtest(on, HEALTH, "{}")
            moved0 = on.metric_sum("messagestore_archive_messages_total")
            sends_on = loadtest(on, SEND, SEND_DATA % "")
            moved_during = on.metric_sum("messagestore_archive_messages_total") - moved0
            backlog_after = on.metric_sum("messagestore_archive_backlog")
            # Alone: messages moved in a fixed window, while the backlog lasts (it is counted
            # only every 30 s, so the window is kept short of emptying it).
            t0, m0 = time.time(), on.metric_sum("messagestore_archive_messages_total")
            time.sleep(ARCHIVE_ALONE_SECONDS)
            alone = (on.metric_sum("messagestore_archive_messages_total") - m0) / (time.time() - t0)
            loadtest(on, "messagestore.v1.MessageStore/GetThreadStats", stats_data, duration=WARMUP)
            stats = loadtest(on, "messagestore.v1.MessageStore/GetThreadStats", stats_data)
            base2 = loadtest(on, HEALTH, "{}")
        finally:
            on.stop()
    finally:
        sh(f"redis-cli -n {ARCHIVE_REDIS_DB} --scan --pattern 'ms:*' | xargs -r -n 1000 redis-cli -n {ARCHIVE_REDIS_DB} unlink")
        sh(f"psql -h 127.0.0.1 -U postgres -At -d postgres -c 'DROP DATABASE IF EXISTS {db} WITH (FORCE)'")
        sh(f"curl -s --data-binary 'DROP DATABASE IF EXISTS {db}' '{env['MESSAGESTORE_CLICKHOUSE_URL']}/'")
    print(f"machine: {machine()}; {CONCURRENCY} concurrent callers, {DURATION} per case after {WARMUP} warm-up; "
          f"backlog {ARCHIVE_MESSAGES} messages\n")
    print(HEADER)
    print(row("Health/Check (no-op baseline)", base, base))
    print(row("SendMessage DURABILITY_CACHE, archiver off", sends_off, base))
    print(row("Health/Check on the archiver-off gateway, after", base_off, base))
    print(row("Health/Check on the archiving gateway, before its sends", base_on, base))
    print(row("SendMessage DURABILITY_CACHE, archiver moving the backlog", sends_on, base))
    print(row("GetThreadStats (ClickHouse)", stats, base))
    print(row("Health/Check again (drift check)", base2, base))
    print(f"\narchived during the send run: {moved_during:.0f} messages ({moved_during / seconds(DURATION):.0f}/s), backlog left "
          f"{backlog_after:.0f}; archive throughput alone: {alone:.0f} messages/s")
    # The two send runs are minutes apart on a machine whose speed drifts (the no-op alone moves
    # by a third between the first and the last case): each is read against the no-op measured
    # next to it on its own gateway.
    off_ratio = sends_off["rps"] / ((base["rps"] + base_off["rps"]) / 2)
    on_ratio = sends_on["rps"] / base_on["rps"]
    print(f"cache sends with / without the archiver: {sends_on['rps'] / sends_off['rps']:.2f} in calls/s; "
          f"{on_ratio / off_ratio:.2f} against the no-op next to each ({on_ratio:.3f} vs {off_ratio:.3f} x no-op)")


MEMORY_THREADS = int(os.environ.get("BENCH_MEMORY_THREADS", "20000"))
MEMORY_MESSAGES = int(os.environ.get("BENCH_MEMORY_MESSAGES", "100000"))


def memory():
    """Memory for sizing (OPERATIONS.md): what a thread, a message and an idempotency key hold in
    Redis, a message and a thread in PostgreSQL, and a message archived in ClickHouse. A redis-server of its own (nothing else in it: used_memory moves only with
    this gateway's keys), a gateway on it and on a PostgreSQL and ClickHouse database of its own;
    used_memory after each step once the persisters have caught up (so the streams hold no
    backlog), then MEMORY USAGE of sampled keys of each kind, and what an unpersisted stream
    entry holds (entries of the same shape added to a stream of its own)."""
    env = tier_env()
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    cli = f"redis-cli -p {port}"
    deadline = time.time() + 20
    while subprocess.run(f"{cli} ping", shell=True, capture_output=True).returncode != 0:
        if time.time() > deadline:
            raise SystemExit("private redis-server did not start")
        time.sleep(0.1)
    db = f"msmem_{RUN}"
    sh(f"psql -h 127.0.0.1 -U postgres -At -d postgres -c 'CREATE DATABASE {db}'")
    env["MESSAGESTORE_POSTGRES_URL"] = re.sub(r"/[^/?]+(\?.*)?$", "/" + db, env["MESSAGESTORE_POSTGRES_URL"])
    env["MESSAGESTORE_CLICKHOUSE_DATABASE"] = db
    env["MESSAGESTORE_REDIS_URI"] = f"redis://127.0.0.1:{port}"

    def used():
        return int(re.search(r"used_memory:(\d+)", sh(f"{cli} info memory")).group(1))

    def sample(pattern, n=200):
        keys = sh(f"{cli} --scan --pattern '{pattern}' | head -n {n}").split()
        sizes = [int(sh(f"{cli} memory usage '{k}' samples 0").strip()) for k in keys]
        return keys, sum(sizes) / max(1, len(sizes))

    prefix = f"bench-m-{RUN}"
    content = '"content":"{{randomString 512}}"'
    try:
        gw = Gateway("memory", env, {"MESSAGESTORE_HOT_RETENTION": "off"})
        try:
            def send(n, thread, extra=""):
                data = '{"thread_id":"' + prefix + '-' + thread + '","role":"ROLE_USER",' + content + extra + '}'
                run_tool(gw, SEND, data, ["-n", str(n)])
                gw.await_drained(120)
                time.sleep(1)  # the last round's acknowledgement and trims
                return used()
            m0 = used()
            m1 = send(MEMORY_THREADS, "{{.RequestNumber}}")
            m2 = send(MEMORY_MESSAGES, "{{randomInt 0 %d}}" % MEMORY_THREADS)
            m3 = send(MEMORY_MESSAGES, "{{randomInt 0 %d}}" % MEMORY_THREADS, ',"idempotency_key":"{{newUUID}}"')
            # Long threads: their recent index passes 128 members and becomes a skip list.
            m4 = send(MEMORY_MESSAGES, "{{randomInt 0 %d}}" % (MEMORY_MESSAGES // 1000))
            _, owner = sample("ms:*:owner")
            _, message = sample("ms:*:m:*")
            _, idem = sample("ms:*:idem:*")
            recent_keys, recent = sample("ms:*:recent")
            members = sum(int(sh(f"{cli} zcard '{k}'").strip()) for k in recent_keys) / max(1, len(recent_keys))
            streams = sum(int(sh(f"{cli} memory usage 'ms:{{s{i}}}:stream' samples 0").strip() or 0) for i in range(4))
            # An unpersisted entry: the same fields send.lua writes, with a message's bytes.
            message_bytes = int(sh(f"{cli} strlen \"$({cli} --scan --pattern 'ms:*:m:*' | head -n 1)\"").strip())
            payload = "x" * message_bytes
            pipe = "".join(f"XADD mem:stream * m {payload}\n" for _ in range(10000))
            s0 = used()
            subprocess.run(f"{cli} > /dev/null", shell=True, input=pipe, text=True, check=True)
            entry = (used() - s0) / 10000
            keys = int(re.search(r"keys=(\d+)", sh(f"{cli} info keyspace")).group(1))
            # And what the same messages take in PostgreSQL, table and indexes (after a VACUUM,
            # so that the feed's deleted outbox rows do not count).
            psql = f"psql -h 127.0.0.1 -U postgres -At -d {db} -c"
            sh(f"{psql} 'VACUUM ANALYZE'")
            pg = [int(x) for x in sh(f"{psql} \"SELECT pg_table_size('messages'), pg_indexes_size('messages'), "
                                     f"count(*) FROM messages\"").strip().split("|")]
            pg_threads = [int(x) for x in sh(f"{psql} \"SELECT pg_total_relation_size('threads'), count(*) "
                                             f"FROM threads\"").strip().split("|")]
        finally:
            gw.stop()
        # The same messages moved to ClickHouse: a gateway that archives everything older than
        # a second, until PostgreSQL holds none; then the parts merged, as they end up.
        archiving = Gateway("memory-archive", env, {"MESSAGESTORE_HOT_RETENTION": "1s",
                                                    "MESSAGESTORE_ARCHIVE_INTERVAL": "1s"})
        try:
            t0 = time.time()
            while int(sh(f"{psql} 'SELECT count(*) FROM messages'").strip()) > 0 and time.time() - t0 < 600:
                time.sleep(1)
        finally:
            archiving.stop()
        clickhouse = env["MESSAGESTORE_CLICKHOUSE_URL"]
        archived = {}
        for table in ("messages_archive", "message_facts"):
            sh(f"curl -sf --data-binary 'OPTIMIZE TABLE {db}.{table} FINAL' '{clickhouse}/'")
            row = sh(f"curl -sf --data-binary \"SELECT sum(bytes_on_disk), sum(rows) FROM system.parts "
                     f"WHERE database = '{db}' AND table = '{table}' AND active\" '{clickhouse}/'").split()
            archived[table] = (int(row[0]), int(row[1]))
    finally:
        redis.terminate()
        redis.wait(30)
        sh(f"psql -h 127.0.0.1 -U postgres -At -d postgres -c 'DROP DATABASE IF EXISTS {db} WITH (FORCE)'")
        sh(f"curl -s --data-binary 'DROP DATABASE IF EXISTS {db}' '{env['MESSAGESTORE_CLICKHOUSE_URL']}/'")
    per_message = (m2 - m1) / MEMORY_MESSAGES
    per_thread = (m1 - m0) / MEMORY_THREADS - per_message
    per_key = (m3 - m2) / MEMORY_MESSAGES - per_message
    per_long = (m4 - m3) / MEMORY_MESSAGES
    print(f"machine: {machine()}; redis-server {sh('redis-server --version').split()[2][2:]}, "
          f"{MEMORY_THREADS} threads, then {MEMORY_MESSAGES} messages and {MEMORY_MESSAGES} keyed messages "
          f"over them, then {MEMORY_MESSAGES} messages over {MEMORY_MESSAGES // 1000} of them "
          f"(512-byte content, {message_bytes}-byte stored message); {keys} keys at the end\n")
    print("| what | used_memory per item (bytes) | MEMORY USAGE of one key (bytes, mean of a sample) |")
    print("|---|---|---|")
    print(f"| a thread (owner key and recent index, without its messages) | {per_thread:.0f} | "
          f"owner key {owner:.0f}; recent index {recent:.0f} with {members:.1f} members |")
    print(f"| a message (message key, recent index member) | {per_message:.0f} | message key {message:.0f} |")
    print(f"| a message of a long thread (its index a skip list of up to RECENT_WINDOW members) | {per_long:.0f} | |")
    print(f"| an idempotency key (beside its message) | {per_key:.0f} | {idem:.0f} |")
    print(f"| an unpersisted stream entry | {entry:.0f} | |")
    print(f"\nPostgreSQL, {pg[2]} messages: table {pg[0] / pg[2]:.0f} bytes per message, indexes {pg[1] / pg[2]:.0f}; "
          f"{pg_threads[1]} threads: {pg_threads[0] / pg_threads[1]:.0f} bytes per thread (table and indexes)")
    print(f"ClickHouse, once archived (merged parts; random content compresses less than text): "
          + "; ".join(f"{t} {b / max(1, r):.0f} bytes per message on disk ({r} rows)" for t, (b, r) in archived.items()))
    print(f"\nused_memory: {m0} at start, {m1} after the threads, {m2} after the messages, {m3} after the keyed "
          f"ones, {m4} after the long threads; the four shard streams, persisted and acknowledged: {streams} bytes")


WATCH_RATE = 1000
# Lower rates with 100 watchers: where delivery keeps up on this machine, when it does not at WATCH_RATE.
WATCH_CEILING_RATES = [int(r) for r in os.environ.get("BENCH_WATCH_CEILING_RATES", "100,250,500").split(",") if r]
IDLE_WATCHERS = int(os.environ.get("BENCH_IDLE_WATCHERS", "10000"))
IDLE_THREADS = 1000


def watch():
    """Issue 18. Two gateways on the shared tiers: the load tester sends through A and its
    watchers (--watch-streams, opened and live before the clock starts) watch through B, so
    every event crosses Redis pub/sub. All sends go to one thread, the one the watchers watch.
    Delivery delay is the arrival of MESSAGE_CONFIRMED at the tool minus the message's
    created_at (its id's millisecond; same machine, so 0-1 ms above the true delay). Then
    IDLE_WATCHERS streams over IDLE_THREADS quiet threads are held on a fresh gateway C (on B,
    the caches the send cases filled shrink meanwhile and hide the watchers): its heap after a
    full GC (jcmd GC.run, then GC.heap_info) with them, minus without them.
    `scripts/bench.py watch idle` runs that part alone."""
    env = tier_env()
    if sys.argv[2:] == ["idle"]:
        print_idle(idle_watchers(env))
        return
    a = Gateway("watch-a", env)
    b = Gateway("watch-b", env, {"MESSAGESTORE_MAX_WATCHERS": str(IDLE_WATCHERS * 2)})
    hot = SEND_DATA.replace("bench-w-" + RUN + "-{{randomInt 0 50}}", f"bench-v-{RUN}-hot") % ""

    def watchers(n):
        return f"--watch-streams {n} --watch-host 127.0.0.1:{b.port} --watch-drain 10s" if n else ""


    def case(call, data, extra=""):
        """A run on A, with B's CPU per call and its watchers' fallbacks to storage beside it."""
        b0, behind0 = b.cpu_seconds()[0], b.metric_sum("messagestore_watch_behind_total")
        r = loadtest(a, call, data, extra=extra)
        r["b_us"] = (b.cpu_seconds()[0] - b0) / max(1, r["count"]) * 1e6
        r["behind"] = b.metric_sum("messagestore_watch_behind_total") - behind0
        return r

    try:
        for _ in range(WARMUP_ROUNDS):
            for call, data, extra in [(HEALTH, "{}", ""), (SEND, hot, ""), (SEND, hot, watchers(100)),
                                      (SEND, hot, f"--rps {WATCH_RATE} " + watchers(100))]:
                loadtest(a, call, data, duration=WARMUP, extra=extra)
        base = case(HEALTH, "{}")
        sends0 = case(SEND, hot)
        sends1000 = case(SEND, hot, watchers(1000))
        sends0b = case(SEND, hot)
        base_rate = case(HEALTH, "{}", f"--rps {WATCH_RATE}")
        delay = {(WATCH_RATE, n): case(SEND, hot, f"--rps {WATCH_RATE} " + watchers(n)) for n in (1, 100, 1000)}
        for r in WATCH_CEILING_RATES:
            delay[(r, 100)] = case(SEND, hot, f"--rps {r} " + watchers(100))
    finally:
        a.stop()
        b.stop()
    idle = idle_watchers(env)
    print(f"machine: {machine()}; {CONCURRENCY} concurrent callers, {DURATION} per case after {WARMUP} warm-up; "
          f"sends of 512 bytes to one thread through gateway A, watchers of that thread on gateway B\n")
    print(HEADER)
    print(row("Health/Check on A (no-op baseline)", base, base))
    print(row("SendMessage DURABILITY_CACHE, no watchers", sends0, base))
    print(row("SendMessage DURABILITY_CACHE, 1,000 watchers on B", sends1000, base))
    print(row("SendMessage DURABILITY_CACHE, no watchers, again", sends0b, base))
    print(row(f"Health/Check on A at {WATCH_RATE}/s", base_rate, base))
    for (rps, n), r in delay.items():
        print(row(f"SendMessage at {rps}/s, {n:,} watchers on B", r, base))
    print("\n| case | sends/s | watchers | established | MESSAGE_CONFIRMED measured | acknowledged sends x watchers | delivery p50 ms "
          "| p90 ms | p99 ms | max ms | send p99 ms | no-op p99 ms at the same rate | gateway B CPU µs/send "
          "| B watchers behind |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for title, r in [("as fast as possible", sends1000)] + [(f"{rps}/s", r) for (rps, _), r in delay.items()]:
        w = r["watch"]
        d = w["delivery"]
        print(f"| {title} | {r['rps']:.0f} | {w['streams']} | {w['established']} | {w['delivered']} | "
              f"{r['ok'] * w['streams']} | {d['p50'] / 1e6:.2f} | {d['p90'] / 1e6:.2f} | {d['p99'] / 1e6:.2f} | "
              f"{d['max'] / 1e6:.2f} | {r['p99']:.2f} | {base_rate['p99']:.2f} | {r['b_us']:.0f} | {r['behind']:.0f} |")
    ratio = sends1000["rps"] / ((sends0["rps"] + sends0b["rps"]) / 2)
    print(f"\ncache sends with 1,000 watchers / without (mean of the runs before and after): {ratio:.2f} "
          f"(target >= 0.8); delivery p99 with 100 watchers at {WATCH_RATE}/s: "
          f"{delay[(WATCH_RATE, 100)]['watch']['delivery']['p99'] / 1e6:.2f} ms (target < 10 ms)")
    print_idle(idle)


def print_idle(idle):
    per_watcher = (idle["heap1"] - idle["heap0"]) / max(1, idle["active"])
    print(f"idle watchers: {idle['streams']} over {IDLE_THREADS} threads, {idle['active']:.0f} active on B, ended "
          f"{idle['ends']}; heap after a full GC {idle['heap0'] / 2**20:.1f} MB without, "
          f"{idle['heap1'] / 2**20:.1f} MB with them: {per_watcher:.0f} bytes per watcher; RSS "
          f"{(idle['rss1'] - idle['rss0']) / 2**20:+.1f} MB; B's CPU while they idled: "
          f"{idle['idle_cpu_pct']:.1f} % of a core; {idle['still']:.0f} still active when weighed; refused: {idle['errors'] or 'none'}")


def idle_watchers(env):
    """Holds IDLE_WATCHERS live streams on quiet threads of a gateway of their own, and weighs them."""
    b = Gateway("watch-idle", env, {"MESSAGESTORE_MAX_WATCHERS": str(IDLE_WATCHERS * 2)})
    try:
        return weigh_idle_watchers(b)
    finally:
        b.stop()


def weigh_idle_watchers(b):
    prefix = f"bench-v-{RUN}-idle"
    populate(b, prefix, IDLE_THREADS, 1)
    # Quiet first: the persisters' backlog and what they hold for it would go between the two weighings.
    b.await_drained(60)
    time.sleep(5)
    live_heap(b)
    heap0, rss0 = live_heap(b), rss_bytes(b)
    md = json.dumps({"authorization": "Bearer " + token()})
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    hold = subprocess.Popen(["bin/messagestore-loadtest", "--insecure", "--call",
                             "messagestore.v1.MessageStore/WatchThread", "-m", md,
                             "-d", json.dumps({"thread_id": prefix + "-{{randomInt 0 %d}}" % IDLE_THREADS}),
                             "--streams", str(IDLE_WATCHERS), "--rps", "2000", "-z", "45s", "--tool-warmup", "0",
                             "--progress", "never", "-O", "json", "-o", out, f"127.0.0.1:{b.port}"], cwd=ROOT)
    deadline = time.time() + 40
    active = 0
    while time.time() < deadline:
        active = b.metric_sum("messagestore_watch_active")
        if active >= IDLE_WATCHERS:
            break
        time.sleep(0.5)
    time.sleep(2)  # the last ones' catch-up reads and subscriptions settle
    cpu0, t0 = b.cpu_seconds()[0], time.time()
    time.sleep(10)
    idle_cpu_pct = (b.cpu_seconds()[0] - cpu0) / (time.time() - t0) * 100
    heap1, rss1 = live_heap(b), rss_bytes(b)
    still = b.metric_sum("messagestore_watch_active")
    hold.wait()
    report = json.load(open(out))
    return {"streams": report["watch"]["streams"], "active": active, "heap0": heap0, "heap1": heap1,
            "rss0": rss0, "rss1": rss1, "idle_cpu_pct": idle_cpu_pct, "ends": report["watch"]["statusCodeDistribution"],
            "errors": report["watch"]["errorDistribution"], "still": still}


def live_heap(gw):
    """Heap in use right after a full collection (what the gateway's objects hold), in bytes, as
    the JVM reports it (jcmd GC.heap_info). Not the metrics endpoint: its jvm_memory_used_bytes
    read right after the collection showed the same figure with and without 10,000 watchers."""
    sh(f"jcmd {gw.proc.pid} GC.run")
    info = sh(f"jcmd {gw.proc.pid} GC.heap_info")
    return int(re.search(r"used (\d+)K", info).group(1)) * 1024


def rss_bytes(gw):
    for line in open(f"/proc/{gw.proc.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


AB_DATABASES = {"A": 2, "B": 3}
# Cases after the no-op baseline: any of get, list, threads, cache, durable, keyed.
AB_CASES = os.environ.get("BENCH_AB_CASES", "get,cache").split(",")


def ab():
    """Two builds, same machine, same minutes: the only fair before/after on a noisy host."""
    if len(sys.argv) < 4:
        raise SystemExit("usage: scripts/bench.py ab A.jar B.jar [ROUNDS]")
    jars = {"A": sys.argv[2], "B": sys.argv[3]}
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    env = tier_env()
    gws, cases = {}, {}
    try:
        for k, jar in jars.items():
            db = AB_DATABASES[k]
            extra = {"MESSAGESTORE_REDIS_URI": env["MESSAGESTORE_REDIS_URI"].rstrip("/") + f"/{db}"}
            # e.g. BENCH_AB_SETTINGS_B="MESSAGESTORE_STREAM_SHARDS=1": one build, two settings.
            extra.update(dict(kv.split("=", 1) for kv in os.environ.get(f"BENCH_AB_SETTINGS_{k}", "").split()))
            gw = gws[k] = Gateway("ab-" + k, env, extra, jar=jar)
            pairs = populate_hot(gw, f"bench-q-{RUN}-{k}", db)
            hot_pages = [{"thread_id": f"bench-q-{RUN}-{k}-{i}", "page_size": 50, "newest_first": True} for i in range(50)]
            known = {"get": ("GetMessage hot (Redis)", "messagestore.v1.MessageStore/GetMessage", json.dumps(pairs)),
                     "list": ("ListMessages 50 hot (Redis)", "messagestore.v1.MessageStore/ListMessages",
                              json.dumps(hot_pages)),
                     "cache": ("SendMessage DURABILITY_CACHE", SEND, SEND_DATA % ""),
                     "durable": ("SendMessage DURABILITY_DURABLE", SEND, SEND_DATA % ',"durability":"DURABILITY_DURABLE"'),
                     "keyed": ("SendMessage DURABILITY_CACHE with an idempotency key", SEND, KEYED_SEND_DATA),
                     # The caller's thread list, as a client polling it asks for it: cached in Redis.
                     "threads": ("ListThreads 50 hot (Redis)", "messagestore.v1.MessageStore/ListThreads",
                                 '{"page_size":50}')}
            cases[k] = [("Health/Check (no-op baseline)", HEALTH, "{}")] + [known[c] for c in AB_CASES]
        for _ in range(WARMUP_ROUNDS):
            for k in gws:
                for _, call, data in cases[k]:
                    loadtest(gws[k], call, data, duration=WARMUP)
        results = {}
        for r in range(rounds):
            for k in ("A", "B") if r % 2 == 0 else ("B", "A"):
                for name, call, data in cases[k]:
                    # BENCH_AB_EXTRA="--rps 1000": the measured rounds at a steady rate (open loop).
                    results.setdefault((k, name), []).append(
                        loadtest(gws[k], call, data, extra=os.environ.get("BENCH_AB_EXTRA", "")))
    finally:
        for gw in gws.values():
            gw.stop()
        for db in AB_DATABASES.values():
            sh(f"redis-cli -n {db} --scan --pattern 'ms:*:t:bench-?-{RUN}-*' | xargs -r -n 1000 redis-cli -n {db} unlink")
            sh(f"redis-cli -n {db} --scan --pattern 'ms:{{s*}}:stream' | xargs -r redis-cli -n {db} unlink")
    print(f"A = {jars['A']}, B = {jars['B']}; means of {rounds} interleaved rounds\n")
    print(HEADER)
    for k in ("A", "B"):
        # A figure some run could not measure (None) averages to nan instead of ending the report.
        mean = {name: {key: sum(x[key] for x in results[(k, name)]) / rounds
                       if all(isinstance(x[key], (int, float)) for x in results[(k, name)]) else float("nan")
                       for key in results[(k, name)][0] if key != "errors"}
                | {"errors": {}} for name, _, _ in cases[k]}
        base = mean[cases[k][0][0]]
        for name, _, _ in cases[k]:
            print(row(f"{k}: {name}", mean[name], base))


ASYNC_PROFILER = "tools.profiler:async-profiler:4.1"
# Loads the profiler into a running JVM with its options intact (jcmd's JVMTI.agent_load splits
# them at '=').
ATTACH_SOURCE = """
import com.sun.tools.attach.VirtualMachine;
public class Attach {
  public static void main(String[] a) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(a[0]);
    try { vm.loadAgentPath(a[1], a[2]); } finally { vm.detach(); }
  }
}
"""


def profiler_library():
    """libasyncProfiler.so from Maven Central's async-profiler jar (fetched once into ~/.m2)."""
    group, artifact, version = ASYNC_PROFILER.split(":")
    jar = os.path.expanduser(f"~/.m2/repository/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar")
    if not os.path.exists(jar):
        sh(f"mvn -B -q dependency:get -Dartifact={ASYNC_PROFILER}")
    out = os.path.join(tempfile.gettempdir(), f"async-profiler-{version}")
    lib = os.path.join(out, "linux-x64", "libasyncProfiler.so")
    if not os.path.exists(lib):
        sh(f"unzip -o -q {jar} 'linux-x64/*' -d {out}")
    return lib


def profile():
    """CPU profile of the gateway per hot call type, after a warm-up: where a call's time goes.
    Writes collapsed stacks (flame graph input) and prints the heaviest frames of each."""
    names = sys.argv[2:] or ["noop", "get", "send"]
    lib = profiler_library()
    attach = os.path.join(tempfile.gettempdir(), "Attach.java")
    with open(attach, "w") as f:
        f.write(ATTACH_SOURCE)
    env = tier_env()
    gw = Gateway("profile", env)
    try:
        pairs = populate_hot(gw, f"bench-q-{RUN}")
        cases = {"noop": (HEALTH, "{}"), "get": ("messagestore.v1.MessageStore/GetMessage", json.dumps(pairs)),
                 "list": ("messagestore.v1.MessageStore/ListMessages",
                          json.dumps([{"thread_id": f"bench-q-{RUN}-{i}", "page_size": 50, "newest_first": True}
                                      for i in range(50)])),
                 "send": (SEND, SEND_DATA % ""),
                 "durable": (SEND, SEND_DATA % ',"durability":"DURABILITY_DURABLE"')}
        for _ in range(WARMUP_ROUNDS):
            for name in names:
                loadtest(gw, *cases[name], duration=WARMUP)
        # BENCH_PROFILE_RPS=1000: at a steady rate (open loop) instead of flat out, with the
        # thread of each stack as its first frame: what the gateway does besides the calls.
        rps = os.environ.get("BENCH_PROFILE_RPS")
        # BENCH_PROFILE_EVENT=wall: wall-clock samples of every thread, by thread (where a loop
        # such as the persisters' waits, not only where it computes).
        event = os.environ.get("BENCH_PROFILE_EVENT", "itimer")
        by_thread = rps or event == "wall"
        # Every thread is sampled in wall mode: at 1 ms that alone took two thirds of the sends.
        interval = "5ms" if event == "wall" else "1ms"
        for name in names:
            out = os.path.join(tempfile.gettempdir(), f"profile-{name}.collapsed")
            sh(f"java {attach} {gw.proc.pid} {lib} start,event={event},interval={interval}" + (",threads" if by_thread else ""))
            r = loadtest(gw, *cases[name], extra=f"--rps {rps}" if rps else "")
            sh(f"java {attach} {gw.proc.pid} {lib} stop,collapsed,file={out}")
            print(f"\n{name}: {r['rps']:.0f} calls/s, gateway {r['cpu_us']:.0f} µs/call; stacks in {out}")
            print_heaviest(out)
    finally:
        gw.stop()


def print_heaviest(collapsed, top=25):
    """The frames most samples were in (self) and passed through (total), in percent."""
    total, own, through = 0, {}, {}
    for line in open(collapsed):
        stack, n = line.rsplit(" ", 1)
        n = int(n)
        total += n
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            through[frame] = through.get(frame, 0) + n
    for title, counts in (("self", own), ("total", through)):
        print(f"  {title}:")
        for frame, n in sorted(counts.items(), key=lambda x: -x[1])[:top]:
            print(f"    {100 * n / max(1, total):5.1f}% {frame[:120]}")


def remove_run_data():
    """This run's keys and rows: a benchmark leaves millions of messages, and Redis spends CPU
    expiring them for an hour, which would land in the next run's numbers."""
    sh(f"redis-cli --scan --pattern 'ms:*:t:bench-?-{RUN}-*' | xargs -r -n 1000 redis-cli unlink")
    sh(f"redis-cli --scan --pattern 'ms:*:r:bench-?-{RUN}-*' | xargs -r -n 1000 redis-cli unlink")
    # Runs due for a background checkpoint (every synchronous write leaves one for its interval).
    for shard in range(4):
        sh(f"redis-cli --raw ZRANGE 'ms:{{s{shard}}}:runs:due' 0 -1 | {{ grep '^bench-.-{RUN}-' || true; }} "
           f"| xargs -r redis-cli ZREM 'ms:{{s{shard}}}:runs:due' > /dev/null")
    for table in ("run_states", "run_state_history"):
        sh(f"psql -h 127.0.0.1 -U postgres -At -d messagestore -c \"DELETE FROM {table} WHERE run_id LIKE 'bench-_-{RUN}-%'\"")
    for table in ("messages", "threads"):
        sh(f"psql -h 127.0.0.1 -U postgres -At -d messagestore -c \"DELETE FROM {table} WHERE thread_id LIKE 'bench-_-{RUN}-%'\"")


if __name__ == "__main__":
    commands = {"writes": writes, "reads": reads, "quick": quick, "ab": ab, "archive": archive, "runstate": runstate,
                "watch": watch, "profile": profile, "consistency": consistency, "tail": tail, "sdk": sdk,
                "drivers": drivers, "memory": memory}
    command = sys.argv[1] if len(sys.argv) > 1 else "writes"
    if command not in commands:
        print(__doc__)
        sys.exit(0 if command in ("-h", "--help", "help") else f"unknown command '{command}'")
    try:
        commands[command]()
    finally:
        remove_run_data()
