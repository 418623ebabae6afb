#!/usr/bin/env python3
"""Checks that an optimisation changed nothing: runs two crm_simulate
binaries (before and after) on every case of Pacemaker's scheduler suite
(../shared/pcmk-suite/xml) and on the given extra CIBs, and compares their
outputs byte for byte: `-S -s` text (scores, summary, simulation), the
transition graph (-G) and the DOT (-D). Also prints, per binary, the
slowest suite cases (wall seconds), for the "every case under 50 ms"
criterion.

  bench/scheduler/same_output.py OLD_BIN NEW_BIN [-j 2] [EXTRA.xml ...]

Exit status 0 iff every output is identical.
"""
import argparse
import concurrent.futures as cf
import csv
import os
import subprocess
import sys
import tempfile
import time

SUITE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                     "..", "shared", "pcmk-suite"))


def run(binary, xml, args, tmp, tag):
    graph = os.path.join(tmp, tag + ".graph")
    dot = os.path.join(tmp, tag + ".dot")
    argv = [binary, "-x", xml, "-S", "-s", "-G", graph, "-D", dot] + args
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, env=dict(os.environ, LC_ALL="C"))
    secs = time.monotonic() - start
    out = p.stdout + b"\n--rc %d--\n" % p.returncode
    for f in (graph, dot):
        if os.path.exists(f):
            with open(f, "rb") as fh:
                out += fh.read()
            os.unlink(f)
    return out, secs


def case(old, new, name, xml, args):
    with tempfile.TemporaryDirectory() as tmp:
        a, ta = run(old, xml, args, tmp, "old")
        b, tb = run(new, xml, args, tmp, "new")
    return name, a == b, ta, tb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("extra", nargs="*")
    ap.add_argument("-j", type=int, default=2)
    args = ap.parse_intermixed_args()
    jobs = []
    with open(os.path.join(SUITE, "tests.tsv")) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            xml = os.path.join(SUITE, "xml", row["name"] + ".xml")
            if os.path.exists(xml):
                jobs.append((row["name"], xml, (row.get("args") or "").split()))
    for x in args.extra:
        jobs.append((os.path.basename(x), x, []))
    diff = []
    times = []
    with cf.ThreadPoolExecutor(args.j) as ex:
        for name, same, ta, tb in ex.map(lambda j: case(args.old, args.new, *j), jobs):
            times.append((tb, ta, name))
            if not same:
                diff.append(name)
                print("DIFFERS", name, flush=True)
    times.sort(reverse=True)
    print("slowest (new s, old s):", ", ".join(f"{n} {b:.3f}/{a:.3f}" for b, a, n in times[:5]))
    print(f"{len(jobs) - len(diff)} identical, {len(diff)} different")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
