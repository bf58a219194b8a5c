#!/usr/bin/env python3
"""pgconn benchmarks, side by side, against the running lab.

Each comparison runs A and B alternately (the order flips every round) for
several rounds and reports medians, spread (p25..p75) and the ratio A/B, so
machine noise hits both sides alike. Run inside the lab namespace:

    lab/lab exec -- python3 bench/bench.py [--rounds N] [--quick] [--out FILE] [--pgconn BIN]

`bench/run` does the set-up (release build, lab up) and writes BENCHMARKS.md's
table. Nothing here asserts a time: it reports, and says which targets are met.
"""

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lab_env():
    """The lab's lab.env as a dict (the lab must be up)."""
    path = os.environ.get("PGCONN_LAB_DIR")
    if not path:
        sys.exit("bench: run inside the lab: lab/lab exec -- python3 bench/bench.py")
    env = {}
    for line in Path(path, "lab.env").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(extra or {})
    return env


def run_once(argv, env, shell=False, timeout=60):
    """Wall time of one run in ms, and the child's max RSS in KiB."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.0005)
    elapsed = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, proc.returncode


def summary(samples):
    samples = sorted(samples)
    q = statistics.quantiles(samples, n=4) if len(samples) >= 2 else [samples[0]] * 3
    return statistics.median(samples), q[0], q[2]


def fmt_ms(m):
    return f"{m:.1f} ms" if m < 1000 else f"{m / 1000:.2f} s"


class Bench:
    def __init__(self, rounds, judge=True):
        self.rounds = rounds
        self.judge = judge
        self.rows = []

    def verdict(self, met):
        if not self.judge:
            return "reported (smoke run)"
        return "met" if met else "MISSED"

    def compare(self, what, a, b, target, check):
        """a, b: (label, argv, env, shell). check(ratio, median_a, median_b) -> bool."""
        times = {0: [], 1: []}
        codes = {0: set(), 1: set()}
        sides = [a, b]
        for r in range(self.rounds):
            order = (0, 1) if r % 2 == 0 else (1, 0)
            for i in order:
                _, argv, env, shell = sides[i]
                ms, _, code = run_once(argv, env, shell)
                times[i].append(ms)
                codes[i].add(code)
        (ma, la, ha), (mb, lb, hb) = summary(times[0]), summary(times[1])
        ratio = ma / mb if mb else float("inf")
        met = check(ratio, ma, mb)
        note = ""
        if codes[0] != {0} or codes[1] != {0}:
            note = f" (exit codes A {sorted(codes[0])}, B {sorted(codes[1])})"
        self.rows.append(
            (
                what,
                f"{a[0]}: {fmt_ms(ma)} [{fmt_ms(la)}..{fmt_ms(ha)}]",
                f"{b[0]}: {fmt_ms(mb)} [{fmt_ms(lb)}..{fmt_ms(hb)}]",
                f"{ratio:.2f}×",
                target,
                self.verdict(met) + note,
            )
        )
        print(f"  {what}: A {fmt_ms(ma)}  B {fmt_ms(mb)}  ratio {ratio:.2f}  {target}: {self.verdict(met)}{note}", flush=True)

    def single(self, what, label, argv, env, target, check, shell=False):
        samples, rss = [], []
        for _ in range(self.rounds):
            ms, kib, _ = run_once(argv, env, shell)
            samples.append(ms)
            rss.append(kib)
        m, lo, hi = summary(samples)
        met = check(m)
        self.rows.append((what, f"{label}: {fmt_ms(m)} [{fmt_ms(lo)}..{fmt_ms(hi)}]", "—", "—", target, self.verdict(met)))
        print(f"  {what}: {fmt_ms(m)}  {target}: {self.verdict(met)}", flush=True)
        return max(rss)

    def fact(self, what, value, target, met):
        self.rows.append((what, value, "—", "—", target, self.verdict(met)))
        print(f"  {what}: {value}  {target}: {self.verdict(met)}", flush=True)

    def skipped(self, what, why):
        self.rows.append((what, "—", "—", "—", "—", f"not measured: {why}"))
        print(f"  {what}: not measured: {why}", flush=True)

    def table(self):
        out = ["| what | A (median [p25..p75]) | B | A/B | target | result |", "|---|---|---|---|---|---|"]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows]
        return "\n".join(out) + "\n"


def kube_catalog(lab_catalog):
    """The lab catalog with temporal's credential read from the Kubernetes Secret only."""
    pattern = r"(      temporal:\n        roles: \[write, read\]\n        credentials:\n)          - file: [^\n]*\n"
    text, n = re.subn(pattern, r"\1          - kubernetes: {}\n", lab_catalog)
    if n != 1:
        sys.exit("bench: the lab catalog's temporal user is not where expected")
    return text


def many_endpoints_catalog(path, lab, clusters):
    """`clusters` × write/read/admin endpoints, all pointing at the lab's
    temporal-db, each with its own expected IP (so doctor warns on dns but
    checks every layer)."""
    secrets = lab["PGCONN_LAB_SECRETS"]
    lines = [
        "version: 1",
        f"sslrootcert: {lab['PGSSLROOTCERT']}",
        "pooler: { kind: pgbouncer, mode: transaction }",
        "clusters:",
    ]
    for i in range(clusters):
        lines += [f"  c{i:03d}:", "    port: 5432", "    database: temporal", "    endpoints:"]
        for n, role in enumerate(("write", "read", "admin"), start=1):
            lines.append(f"      {role}: {{ host: temporal-db-{role}.lab.pgconn.test, ip: 127.30.{i}.{n} }}")
        lines += [
            "    users:",
            f"      temporal: {{ roles: [write, read], credentials: [ {{ file: {{ path: {secrets}/temporal-db/temporal }} }} ] }}",
            f"      platform_admin: {{ roles: [admin], credentials: [ {{ file: {{ path: {secrets}/temporal-db/platform_admin }} }} ] }}",
        ]
    Path(path).write_text("\n".join(lines) + "\n")


def big_catalog(path, clusters, lab):
    """A catalog with many clusters (for ls/url at scale)."""
    lines = [
        "version: 1",
        "domain: example.internal",
        "sslrootcert: system",
        "pooler: { kind: pgbouncer, mode: transaction }",
        "shared_ips: { write: 10.1.0.1, read: 10.1.0.2, admin: 10.1.0.3 }",
        "clusters:",
    ]
    for i in range(clusters):
        lines += [
            f"  db-{i:04d}:",
            f"    namespace: ns-{i:04d}",
            f"    port: {20000 + i}",
            f"    database: app{i}",
            "    endpoints: { write: {}, read: {}, admin: { allowed_source_ranges: [10.0.0.0/8] } }",
            "    users:",
            "      app: { roles: [write, read], credentials: [ { env: { var: APP_PW } } ] }",
            "      admin: { roles: [admin], credentials: [ { file: { path: /run/secrets/pw } } ] }",
        ]
    Path(path).write_text("\n".join(lines) + "\n")


def delayed_doctor(b, pgconn, catalog, rounds):
    """doctor against psql on the same endpoints behind the delay proxy, the
    whole run against its slowest endpoint, and the healthy report itself."""
    env = clean_env({"PGCONN_CATALOG": str(catalog), "PGCONN_KEYRING": "none"})
    doctor = [pgconn, "doctor", "--timeout", "5"]
    for cluster, role, kind in (("temporal-db", "--write", "pooled, PgBouncer"),
                                ("temporal-db", "--admin", "direct, mapped port")):
        text = subprocess.run([pgconn, "env", cluster, role, "--format", "json"], env=env,
                              capture_output=True, text=True, check=True).stdout
        psql_env = clean_env(json.loads(text))
        b.compare(f"delayed lab: doctor {cluster} {role} vs psql -c 'select 1' there ({kind})",
                  ("pgconn doctor", doctor + [cluster, role], env, False),
                  ("psql", ["psql", "-Xqc", "select 1"], psql_env, False),
                  "≤ 1.5×", lambda r, a, _b: r <= 1.5)
    endpoints = [("temporal-db", "--write"), ("temporal-db", "--read"), ("temporal-db", "--admin"),
                 ("platform-db", "--write"), ("platform-db", "--admin")]
    singles, whole = {e: [] for e in endpoints}, []
    for _ in range(rounds):  # interleaved, so that noise hits all alike
        for e in endpoints:
            singles[e].append(run_once(doctor + list(e), env)[0])
        whole.append(run_once(doctor, env)[0])
    slowest = max(statistics.median(v) for v in singles.values())
    whole_m = statistics.median(whole)
    b.fact("delayed lab: doctor over every endpoint vs its slowest single endpoint",
           f"{fmt_ms(whole_m)} vs {fmt_ms(slowest)} ({whole_m / slowest:.2f}×)", "≤ 1.3×",
           whole_m <= 1.3 * slowest)
    report = json.loads(subprocess.run(doctor + ["--json"], env=env, capture_output=True, text=True).stdout)
    loud = [f"{e['cluster']} {e['role']} {c['id']}: {c['status']}" for e in report["endpoints"]
            for c in e["checks"] if c["status"] in ("warn", "fail")]
    b.fact("delayed lab: warnings or failures on the healthy lab", ", ".join(loud) or "none",
           "none", not loud)
    human = subprocess.run(doctor, env=dict(env, NO_COLOR="1"), capture_output=True, text=True).stdout
    lines = len(human.splitlines())
    b.fact("delayed lab: lines of the healthy human report (5 endpoints)", str(lines), "≤ 15", lines <= 15)


def in_session_keyring():
    """Re-runs this script inside its own kernel session keyring, as a login
    session has one (pam_keyinit): pgconn's keyutils cache lives there, and
    without a session keyring each process would get a new, empty one."""
    if os.environ.get("PGCONN_BENCH_SESSION") or not shutil.which("keyctl"):
        return
    os.environ["PGCONN_BENCH_SESSION"] = "1"
    os.execvp("keyctl", ["keyctl", "session", "pgconn-bench", sys.executable, *sys.argv])


IMPORT_KINDS = ["services", "endpoints", "postgresqls.acid.zalan.do",
                "clusters.postgresql.cnpg.io", "poolers.postgresql.cnpg.io"]


def import_vs_kubectl(b, pgconn, lab, clusters=200, listen="127.0.0.1:16444"):
    """catalog import of generated clusters from a second lab API server, against the
    `kubectl get KIND -A -o json` calls a script would make for the same objects."""
    kdir, kubectl = lab.get("PGCONN_LAB_KUBE_DIR"), lab.get("PGCONN_LAB_KUBECTL")
    what = f"catalog import kubernetes, {clusters} clusters vs kubectl get -o json of the same kinds"
    if not kdir or not kubectl:
        b.skipped(what, "the lab has no Kubernetes API substitute or kubectl")
        return
    api = str(ROOT / "lab/kubeapi.py")
    with tempfile.TemporaryDirectory() as tmp:
        gen = Path(tmp, "kube")
        subprocess.run(["/usr/bin/python3", api, "generate", kdir, str(gen), str(clusters), listen],
                       check=True, capture_output=True)
        server = subprocess.Popen(["/usr/bin/python3", api, "serve", str(gen), listen],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            host, port = listen.rsplit(":", 1)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection((host, int(port)), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            env = clean_env({"KUBECONFIG": str(gen / "config"), "HOME": tmp})
            script = " && ".join(f"{shlex.quote(kubectl)} get {k} -A -o json >/dev/null" for k in IMPORT_KINDS)
            b.compare(what,
                      ("pgconn catalog import", [pgconn, "catalog", "import", "kubernetes", "-A"], env, False),
                      (f"kubectl ×{len(IMPORT_KINDS)}", script, env, True),
                      "≤ 0.5× kubectl", lambda r, a, _b: r <= 0.5)
        finally:
            server.kill()
            server.wait()


def bench_tunnel(b, pgconn, lab, base):
    """psql through a `pgconn tunnel` (one port-forward stream per connection) vs the same
    endpoint dialled directly, and `pgconn psql --via kube` (the tunnel opened each time) vs
    `pgconn psql`."""
    kube = lab.get("PGCONN_LAB_KUBECONFIG")
    if not kube:
        b.skipped("psql through the tunnel vs direct", "the lab has no Kubernetes API substitute")
        return
    env = dict(base, KUBECONFIG=kube)
    admin_pw = Path(lab["PGCONN_LAB_SECRETS"], "temporal-db", "platform_admin").read_text()
    proc = subprocess.Popen([pgconn, "tunnel", "temporal-db", "--admin", "--no-password"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        if not url:
            b.skipped("psql through the tunnel vs direct", "pgconn tunnel printed nothing")
            return
        direct = (f"host=temporal-db-admin.{lab['PGCONN_LAB_DOMAIN']} port=5432 dbname=temporal "
                  f"user=platform_admin sslmode=verify-full sslrootcert={lab['PGCONN_LAB_DIR']}/ca.crt")
        psql_env = clean_env({"PGPASSWORD": admin_pw})
        b.compare("psql -c 'select 1' through pgconn tunnel vs direct (admin endpoint)",
                  ("through the tunnel", ["psql", "-Xqc", "select 1", url], psql_env, False),
                  ("direct", ["psql", "-Xqc", "select 1", direct], psql_env, False),
                  "≤ 3×", lambda r, a, _b: r <= 3)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    b.compare("pgconn psql --admin --via kube -c 'select 1' vs without --via",
              ("--via kube", [pgconn, "psql", "temporal-db", "--admin", "--via", "kube", "--", "-Xqc", "select 1"], env, False),
              ("direct", [pgconn, "psql", "temporal-db", "--admin", "--", "-Xqc", "select 1"], env, False),
              "(for reference: includes opening the tunnel)", lambda r, a, _b: True)


def shared_catalog(b, pgconn, lab):
    """url from the organisation's catalog published as a ConfigMap (`k8s:`), answered
    from its fresh cached copy, against the same catalog as a local file."""
    kube = lab.get("PGCONN_LAB_KUBECONFIG")
    what = "url from a cached remote catalog (k8s: ConfigMap) vs the same catalog as a local file"
    if not kube:
        b.skipped(what, "the lab has no Kubernetes API substitute")
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env({"KUBECONFIG": kube, "HOME": tmp, "XDG_CACHE_HOME": str(Path(tmp, "cache"))})
        remote = [pgconn, "--catalog", "k8s:platform/pgconn-catalog", "url", "temporal-db", "--no-password"]
        warm = subprocess.run(remote, env=env, capture_output=True, text=True, timeout=60)
        if warm.returncode != 0:
            b.skipped(what, "the ConfigMap catalog could not be read: " + warm.stderr.strip()[:200])
            return
        cached = next(Path(tmp, "cache", "pgconn", "remote").glob("*.json"))
        local = Path(tmp, "catalog.yaml")
        local.write_text(json.loads(cached.read_text())["body"])
        b.compare(what,
                  ("remote, cached", remote, env, False),
                  ("local file", [pgconn, "--catalog", str(local), "url", "temporal-db", "--no-password"], env, False),
                  "≤ 1.5× and ≤ 10 ms", lambda r, a, _b: r <= 1.5 and a <= 10)


def main():
    in_session_keyring()
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="3 rounds")
    ap.add_argument("--smoke", action="store_true",
                    help="3 rounds, targets not judged (any build): the CI smoke run")
    ap.add_argument("--pgconn", default=str(ROOT / "target/release/pgconn"))
    ap.add_argument("--out", default=None, help="write the markdown table here")
    args = ap.parse_args()
    rounds = 3 if args.quick or args.smoke else args.rounds
    pgconn = args.pgconn
    if not Path(pgconn).exists():
        sys.exit(f"bench: {pgconn} not built (cargo build --release)")
    lab = lab_env()
    catalog = lab["PGCONN_CATALOG"]
    pw = Path(lab["PGCONN_LAB_SECRETS"], "temporal-db", "temporal").read_text()
    base = clean_env({"PGCONN_CATALOG": catalog})
    with_pw = dict(base, PGCONN_PASSWORD_TEMPORAL_DB_TEMPORAL=pw)
    b = Bench(rounds, judge=not args.smoke)
    print(f"pgconn benchmarks: {rounds} rounds, {pgconn}", flush=True)

    url = [pgconn, "url", "temporal-db"]
    # 1. url from an env credential, cold process, against the manual ways.
    kube = lab.get("PGCONN_LAB_KUBECONFIG")
    if kube:
        pipeline = (
            f"kubectl --kubeconfig {shlex.quote(kube)} -n temporal get secret "
            "temporal.temporal-db.credentials.postgresql.acid.zalan.do "
            "-o jsonpath='{.data.password}' | base64 -d"
        )
        b.compare("url (env credential) vs kubectl get secret | base64 -d",
                  ("pgconn url", url, with_pw, False), ("kubectl", pipeline, base, True),
                  "≥ 10× faster", lambda r, a, _b: r <= 0.1)
    else:
        b.skipped("url (env credential) vs kubectl get secret", "the lab has no Kubernetes API substitute")
    if lab.get("PGCONN_LAB_VAULT_ADDR") and lab.get("PGCONN_LAB_BAO"):
        addr, token = lab["PGCONN_LAB_VAULT_ADDR"], lab["PGCONN_LAB_VAULT_ROOT_TOKEN"]
        bao_env = dict(base, BAO_ADDR=addr, VAULT_ADDR=addr, BAO_TOKEN=token, VAULT_TOKEN=token)
        bao = [lab["PGCONN_LAB_BAO"], "kv", "get", "-field=password", "kv2/temporal-db/temporal"]
        b.compare("url (env credential) vs bao kv get -field=password",
                  ("pgconn url", url, with_pw, False), ("bao", bao, bao_env, False),
                  "≥ 10× faster", lambda r, a, _b: r <= 0.1)
    else:
        b.skipped("url (env credential) vs bao kv get", "the lab has no OpenBao")
    b.single("url (env credential), cold process", "pgconn url", url, with_pw, "≤ 5 ms median", lambda m: m <= 5)
    if kube:
        with tempfile.TemporaryDirectory() as tmp:
            live = Path(tmp, "pgconn.yaml")
            live.write_text(kube_catalog(Path(catalog).read_text()))
            live_env = clean_env({"PGCONN_CATALOG": str(live), "KUBECONFIG": kube, "PGCONN_KEYRING": "none"})
            b.compare("url reading the Kubernetes Secret live vs kubectl get secret | base64 -d",
                      ("pgconn url", url, live_env, False), ("kubectl", pipeline, base, True),
                      "≤ 0.5× kubectl", lambda r, a, _b: r <= 0.5)
            cached_env = dict(live_env, PGCONN_KEYRING="keyutils")
            subprocess.run(url, env=cached_env, capture_output=True, check=True)  # fills the cache
            b.compare("url answering from the keyutils cache vs from an env credential",
                      ("pgconn url (cache)", url, cached_env, False), ("pgconn url (env)", url, with_pw, False),
                      "as fast (≤ 5 ms)", lambda r, a, _b: a <= 5)

    # 2. psql through pgconn vs psql with the same environment.
    envtext = subprocess.run([pgconn, "env", "temporal-db", "--format", "json"], env=with_pw, capture_output=True, text=True, check=True).stdout
    psql_env = clean_env(json.loads(envtext))
    b.compare("pgconn psql -c 'select 1' vs psql with the same env",
              ("pgconn psql", [pgconn, "psql", "temporal-db", "--", "-Xqc", "select 1"], with_pw, False),
              ("psql", ["psql", "-Xqc", "select 1"], psql_env, False),
              "≤ +15 ms", lambda r, a, bb: a - bb <= 15)

    # 3. doctor, when this build has it.
    has_doctor = subprocess.run([pgconn, "doctor", "--help"], capture_output=True).returncode == 0
    if has_doctor:
        doctor_env = base
        recipe = str(ROOT / "bench/manual_recipe.sh")
        b.compare("doctor over every lab endpoint vs the manual recipe in sequence",
                  ("pgconn doctor", [pgconn, "doctor", "--timeout", "5"], doctor_env, False),
                  ("manual recipe", ["bash", recipe, catalog], base, False),
                  "≥ 5× faster", lambda r, a, _b: r <= 0.2)
        endpoints = [("temporal-db", "--write"), ("temporal-db", "--read"), ("temporal-db", "--admin"),
                     ("platform-db", "--write"), ("platform-db", "--admin")]
        slowest = 0.0
        for cluster, role in endpoints:
            samples = [run_once([pgconn, "doctor", cluster, role, "--timeout", "5"], doctor_env)[0] for _ in range(rounds)]
            slowest = max(slowest, statistics.median(samples))
        whole = statistics.median([run_once([pgconn, "doctor", "--timeout", "5"], doctor_env)[0] for _ in range(rounds)])
        b.fact("doctor over every endpoint vs its slowest single endpoint",
               f"{fmt_ms(whole)} vs {fmt_ms(slowest)} ({whole / slowest:.2f}×)", "≤ 1.5×", whole <= 1.5 * slowest)
        b.compare("doctor on one endpoint vs one psql -c 'select 1'",
                  ("pgconn doctor", [pgconn, "doctor", "temporal-db", "--write", "--timeout", "5"], doctor_env, False),
                  ("psql", ["psql", "-Xqc", "select 1"], psql_env, False),
                  "≤ 2×", lambda r, a, _b: r <= 2)
        lab_script = lab.get("PGCONN_LAB_SCRIPT")
        if lab_script:
            subprocess.run([lab_script, "fault", "admin-blackhole", "on", "--dir", os.environ["PGCONN_LAB_DIR"]], check=True, capture_output=True)
            try:
                timeout = 2
                b.single("doctor with the admin port blackholed", "pgconn doctor --timeout 2",
                         [pgconn, "doctor", "--timeout", str(timeout)], doctor_env,
                         "≤ timeout + 0.5 s", lambda m: m <= timeout * 1000 + 500)
            finally:
                subprocess.run([lab_script, "fault", "admin-blackhole", "off", "--dir", os.environ["PGCONN_LAB_DIR"]], check=True, capture_output=True)
    else:
        for what in ("doctor vs manual recipe", "doctor on one endpoint", "doctor with admin blackholed"):
            b.skipped(what, "this pgconn has no doctor")

    # 3b. doctor on the delayed, port-mapped lab (lab/lab delay: 20 ms each way).
    delayed = Path(os.environ["PGCONN_LAB_DIR"], "pgconn-delayed.yaml")
    if has_doctor and delayed.exists():
        delayed_doctor(b, pgconn, delayed, rounds)
    else:
        b.skipped("doctor on the delayed lab", "no delayed lab (lab/lab delay up)")


    # 3b. --via kube tunnels.
    bench_tunnel(b, pgconn, lab, base)

    # 4. Scale: a catalog of 1,000 clusters.
    with tempfile.TemporaryDirectory() as tmp:
        big = str(Path(tmp, "pgconn.yaml"))
        big_catalog(big, 1000, lab)
        env = clean_env({"PGCONN_CATALOG": big, "APP_PW": "x"})
        b.single("ls, 1,000-cluster catalog", "pgconn ls", [pgconn, "ls"], env, "≤ 50 ms", lambda m: m <= 50)
        b.single("url, 1,000-cluster catalog", "pgconn url", [pgconn, "url", "db-0999"], env, "≤ 10 ms", lambda m: m <= 10)

        if has_doctor:
            many = str(Path(tmp, "many.yaml"))
            many_endpoints_catalog(many, lab, 34)
            rss = b.single("doctor over 102 endpoints", "pgconn doctor", [pgconn, "doctor", "--timeout", "5"],
                           clean_env({"PGCONN_CATALOG": many}), "(time, for reference)", lambda m: True)
            b.fact("doctor peak RSS over 102 endpoints", f"{rss / 1024:.1f} MB", "≤ 50 MB", rss / 1024 <= 50)

    # 4b. One catalog for the organisation, from the cluster's ConfigMap.
    shared_catalog(b, pgconn, lab)

    # 5. Import: the catalog from 200 clusters' objects.
    import_vs_kubectl(b, pgconn, lab)

    # 6. Size.
    size = Path(pgconn).stat().st_size / 1e6
    b.fact("binary size", f"{size:.1f} MB", "≤ 25 MB (release)", size <= 25)

    table = b.table()
    print()
    print(table)
    if args.out:
        Path(args.out).write_text(table)


if __name__ == "__main__":
    main()
