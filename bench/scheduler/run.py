#!/usr/bin/env python3
"""Scheduler benchmark: our crm_simulate against Pacemaker 2.1.5's.

Generates the grid nodes x resources x status with ../shared/tools/gen_cib.py
(groups of 5, constraints = resources/2, seed 1), runs both simulators on the
same file (`crm_simulate -x F -R -Q -G graph.xml`), compares the transition
graphs structurally (same actions, same orderings, ids ignored) and prints a
table of wall seconds and peak RSS with the ratios.

Pacemaker's runs are slow (minutes at 32 x 10,000) so they run under
`nice -n 19`, are capped at --cap seconds (600) and their results are kept in
pacemaker-cache.json beside this script, keyed by the sha256 of the generated
CIB plus the mode: a rerun never pays for them again. The cache stores
Pacemaker's time, peak RSS and a digest of its canonical graph (actions and
orderings), so graph equality is checked against the cache too. Where
Pacemaker did not finish, structural invariants of our graph are checked
instead (no cycle, each resource started at most once, every start preceded
by a probe of that resource on every node that has one).

Usage:
  bench/scheduler/run.py            the whole grid
  bench/scheduler/run.py --quick    a small subset (< 2 minutes)
  bench/scheduler/run.py --points 32x10000:running,16x1000:running:S
  bench/scheduler/run.py --fill-cache   only run Pacemaker where not cached

Point syntax: NODESxRESOURCES:STATUS[:S]; ':S' means a full simulation
(`-S -Q`), compared by its Transition Summary instead of the graph.
"""
import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
GEN = os.path.abspath(os.path.join(ROOT, "..", "shared", "tools", "gen_cib.py"))
CACHE = os.path.join(HERE, "pacemaker-cache.json")
OURS = os.path.join(ROOT, "target", "release", "crm_simulate")
PCMK = "/usr/sbin/crm_simulate"
LAST_CPU = 0.0

NODES = [3, 16, 32]
RESOURCES = [100, 1000, 5000, 10000]
STATUSES = ["empty", "running", "failures"]
QUICK = ["3x100:empty", "3x100:running", "3x100:failures",
         "16x1000:running", "16x1000:failures", "3x1000:empty",
         "16x100:empty", "16x1000:running:S"]
# The done criteria of issue #9, first when filling the cache.
CRITERIA = ["32x10000:running", "32x10000:failures", "32x1000:empty",
            "16x1000:running:S", "16x5000:empty", "32x10000:empty"]


def parse_point(text):
    parts = text.split(":")
    nodes, rscs = parts[0].split("x")
    full = len(parts) > 2 and parts[2] == "S"
    return int(nodes), int(rscs), parts[1], full


def point_name(p):
    n, r, s, full = p
    return f"{n}x{r}:{s}" + (":S" if full else "")


def workdir():
    d = os.path.join(ROOT, "target", "bench-scheduler")
    os.makedirs(d, exist_ok=True)
    return d


def generate(n, r, status):
    path = os.path.join(workdir(), f"cib-{n}x{r}-{status}.xml")
    if not os.path.exists(path):
        tmp = path + ".tmp"
        subprocess.run([sys.executable, GEN, "--nodes", str(n), "--resources",
                        str(r), "--groups", "5", "--constraints", str(r // 2),
                        "--seed", "1", "--status", status, "-o", tmp],
                       check=True)
        os.replace(tmp, path)
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_measured(argv, cap, nice=False, stdout=subprocess.DEVNULL):
    """Run argv; return (seconds, peak RSS in MB, exit code or None on
    timeout). The peak RSS comes from wait4's rusage of that very child;
    its CPU seconds (user + system) are left in LAST_CPU, the figure to
    trust on a shared machine where wall time includes waiting for a
    core."""
    def pre():
        os.setsid()
        if nice:
            os.nice(19)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL,
                            preexec_fn=pre)
    result = {}

    def waiter():
        _, status, ru = os.wait4(proc.pid, 0)
        result["end"] = time.monotonic()
        result["status"] = status
        result["ru"] = ru
    t = threading.Thread(target=waiter)
    t.start()
    t.join(cap)
    global LAST_CPU
    if t.is_alive():
        os.killpg(proc.pid, signal.SIGKILL)
        t.join()
        proc.returncode = -9
        LAST_CPU = result["ru"].ru_utime + result["ru"].ru_stime
        return cap, result["ru"].ru_maxrss / 1024.0, None
    LAST_CPU = result["ru"].ru_utime + result["ru"].ru_stime
    proc.returncode = os.waitstatus_to_exitcode(result["status"])
    return (result["end"] - start, result["ru"].ru_maxrss / 1024.0,
            proc.returncode)


# ---- transition graph, canonical form ----

def action_key(el):
    """An action independent of its id: kind, operation key, node."""
    return (el.tag, el.get("operation_key") or el.get("operation") or "",
            el.get("on_node") or "")


def load_graph(path):
    """(Counter of actions, set of ordering edges (before, after))."""
    root = ET.parse(path).getroot()
    actions = Counter()
    edges = set()
    for syn in root.findall("synapse"):
        acts = [c for c in syn.find("action_set")]
        for a in acts:
            actions[action_key(a)] += 1
        inputs = syn.find("inputs")
        if inputs is None:
            continue
        for trig in inputs.findall("trigger"):
            for before in trig:
                for a in acts:
                    edges.add((action_key(before), action_key(a)))
    return actions, edges


def graph_digest(actions, edges):
    h = hashlib.sha256()
    for a in sorted(actions.items()):
        h.update(repr(a).encode())
    h.update(b"--")
    for e in sorted(edges):
        h.update(repr(e).encode())
    return h.hexdigest()


def summary_lines(text):
    out, on = [], False
    for line in text.splitlines():
        if line.startswith("Transition Summary"):
            on = True
            continue
        if on:
            if line.strip() == "" or line.startswith("Executing") or \
                    line.startswith("Revised"):
                if out or line.strip():
                    break
                continue
            out.append(" ".join(line.split()))
    return sorted(out)


def check_invariants(actions, edges):
    """Structural checks for points where Pacemaker gave no reference."""
    problems = []
    preds = defaultdict(set)
    succs = defaultdict(set)
    for b, a in edges:
        preds[a].add(b)
        succs[b].add(a)
    # no cycle (Kahn)
    nodes = set(actions) | {x for e in edges for x in e}
    indeg = {x: len(preds[x]) for x in nodes}
    queue = [x for x in nodes if indeg[x] == 0]
    seen = 0
    while queue:
        x = queue.pop()
        seen += 1
        for y in succs[x]:
            indeg[y] -= 1
            if indeg[y] == 0:
                queue.append(y)
    if seen != len(nodes):
        problems.append(f"cycle among {len(nodes) - seen} actions")
    # each resource started at most once
    starts = Counter()
    probes = defaultdict(list)
    for (tag, key, node), count in actions.items():
        if tag != "rsc_op":
            continue
        rsc, _, rest = key.rpartition("_")
        rsc, _, task = rsc.rpartition("_")
        if task == "start":
            starts[rsc] += count
        elif task == "monitor" and rest == "0":
            probes[rsc].append((tag, key, node))
    twice = [r for r, c in starts.items() if c > 1]
    if twice:
        problems.append(f"{len(twice)} resources started twice ({twice[0]})")
    # every start has every probe of its resource among its ancestors
    missing = 0
    for (tag, key, node) in actions:
        if tag != "rsc_op" or not key.endswith("_start_0"):
            continue
        rsc = key[: -len("_start_0")]
        want = set(probes.get(rsc, ()))
        want -= preds[(tag, key, node)]
        if want:
            # not direct: search ancestors (bounded by the graph size)
            stack, visited = [(tag, key, node)], set()
            while stack and want:
                x = stack.pop()
                for p in preds[x]:
                    if p not in visited:
                        visited.add(p)
                        want.discard(p)
                        stack.append(p)
        missing += len(want)
    if missing:
        problems.append(f"{missing} probes not ordered before their start")
    return problems


# ---- cache ----

def load_cache():
    if os.path.exists(CACHE):
        with open(CACHE) as f:
            return json.load(f)
    return {}


def save_cache(cache):
    tmp = CACHE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cache, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, CACHE)


def simulate_argv(binary, cib, full, graph):
    if full:
        return [binary, "-x", cib, "-S", "-Q"]
    return [binary, "-x", cib, "-R", "-Q", "-G", graph]


def run_pacemaker(point, cib, digest_key, cache, cap):
    n, r, s, full = point
    if digest_key in cache:
        return cache[digest_key]
    graph = os.path.join(workdir(), f"pcmk-{n}x{r}-{s}.graph.xml")
    out = os.path.join(workdir(), f"pcmk-{n}x{r}-{s}{'-S' if full else ''}.out")
    if os.path.exists(graph):
        os.unlink(graph)
    with open(out, "w") as f:
        secs, mb, rc = run_measured(simulate_argv(PCMK, cib, full, graph), cap,
                                    nice=True, stdout=f)
    entry = {"point": point_name(point), "seconds": round(secs, 2),
             "cpu_seconds": round(LAST_CPU, 2),
             "rss_mb": round(mb, 1), "finished": rc is not None, "rc": rc,
             "date": time.strftime("%Y-%m-%d", time.gmtime())}
    if rc is not None and full:
        with open(out) as f:
            entry["summary"] = summary_lines(f.read())
    elif rc is not None and os.path.exists(graph):
        actions, edges = load_graph(graph)
        entry["graph_sha256"] = graph_digest(actions, edges)
        entry["actions"] = sum(actions.values())
        entry["orderings"] = len(edges)
    cache[digest_key] = entry
    save_cache(cache)
    return entry


def run_point(point, cache, cap, skip_pcmk):
    n, r, s, full = point
    cib = generate(n, r, s)
    key = sha256(cib) + (":S" if full else ":G")
    graph = os.path.join(workdir(), f"ours-{n}x{r}-{s}.graph.xml")
    out = os.path.join(workdir(), f"ours-{n}x{r}-{s}{'-S' if full else ''}.out")
    with open(out, "w") as f:
        secs, mb, rc = run_measured(simulate_argv(OURS, cib, full, graph), cap,
                                    stdout=f)
    ours = {"seconds": secs, "cpu": LAST_CPU, "rss_mb": mb, "rc": rc}
    if skip_pcmk and key not in cache:
        pcmk = None
    else:
        pcmk = run_pacemaker(point, cib, key, cache, cap)
    verdict = ""
    if rc != 0:
        verdict = f"OURS FAILED rc={rc}"
    elif full:
        with open(out) as f:
            mine = summary_lines(f.read())
        if pcmk and pcmk.get("finished"):
            verdict = "same summary" if mine == pcmk.get("summary") else \
                "SUMMARY DIFFERS"
        else:
            verdict = f"{len(mine)} summary lines (no reference)"
    else:
        actions, edges = load_graph(graph)
        ours["actions"] = sum(actions.values())
        if pcmk and pcmk.get("finished"):
            same = graph_digest(actions, edges) == pcmk.get("graph_sha256")
            verdict = "same graph" if same else "GRAPH DIFFERS"
        else:
            problems = check_invariants(actions, edges)
            verdict = "invariants ok" if not problems else \
                "INVARIANTS: " + "; ".join(problems)
    return ours, pcmk, verdict


def fmt_row(point, ours, pcmk, verdict):
    n, r, s, full = point
    mode = s + (" -S" if full else "")
    if pcmk is None:
        p_s = p_m = t_ratio = m_ratio = "-"
    else:
        p_s = f"{pcmk['seconds']:.2f}" if pcmk["finished"] else \
            f">{pcmk['seconds']:.0f}"
        p_m = f"{pcmk['rss_mb']:.0f}"
        t_ratio = f"{pcmk['seconds'] / max(ours['seconds'], 1e-3):.0f}x"
        if not pcmk["finished"]:
            t_ratio = ">" + t_ratio
        m_ratio = f"{pcmk['rss_mb'] / max(ours['rss_mb'], 1e-3):.1f}x"
    return (f"| {n:>5} | {r:>6} | {mode:<11} | {ours['seconds']:>7.2f} | "
            f"{ours['cpu']:>7.2f} | "
            f"{ours['rss_mb']:>6.0f} | {p_s:>7} | {p_m:>6} | {t_ratio:>6} | "
            f"{m_ratio:>6} | {verdict} |")


HEADER = ("| nodes | rscs   | status      | ours s  | ours cpu| ours MB| "
          "pcmk s  | pcmk MB| time   | memory | check |\n"
          "|------:|-------:|-------------|--------:|--------:|-------:|"
          "--------:|-------:|-------:|-------:|-------|")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--points", help="comma-separated NxR:status[:S]")
    ap.add_argument("--cap", type=float, default=600.0)
    ap.add_argument("--no-pacemaker", action="store_true",
                    help="use cached Pacemaker results only")
    ap.add_argument("--fill-cache", action="store_true",
                    help="only run Pacemaker where the cache has no entry")
    args = ap.parse_args()
    if args.points:
        points = [parse_point(p) for p in args.points.split(",")]
    elif args.quick:
        points = [parse_point(p) for p in QUICK]
    else:
        points = [(n, r, s, False) for n in NODES for r in RESOURCES
                  for s in STATUSES] + [parse_point("16x1000:running:S")]
    skip = args.no_pacemaker or not os.path.exists(PCMK)
    cache = load_cache()
    if args.fill_cache:
        order = [parse_point(p) for p in CRITERIA] + \
            [p for p in points if point_name(p) not in CRITERIA]
        order.sort(key=lambda p: (point_name(p) not in CRITERIA,
                                  p[0] * p[1]))
        for p in order:
            cib = generate(p[0], p[1], p[2])
            key = sha256(cib) + (":S" if p[3] else ":G")
            if key in cache:
                continue
            e = run_pacemaker(p, cib, key, cache, args.cap)
            print(point_name(p), e["seconds"], e["rss_mb"], e["finished"],
                  flush=True)
            cache = load_cache()
        return 0
    if not os.path.exists(OURS):
        sys.exit(f"{OURS} missing: cargo build --release -p tools "
                 "--bin crm_simulate")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs")
    print(HEADER, flush=True)
    bad = 0
    for p in points:
        ours, pcmk, verdict = run_point(p, cache, args.cap, skip)
        if verdict.isupper() or "DIFFERS" in verdict or "FAILED" in verdict \
                or verdict.startswith("INVARIANTS"):
            bad += 1
        print(fmt_row(p, ours, pcmk, verdict), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
