#!/usr/bin/env python3
"""ecspoc's benchmarks. Run with scripts/bench (it builds the release binary).

1. scale: a generated configuration of 10,000 terraform_data resources in
   chains and fans; wall time and peak memory (max RSS) of `plan` from empty
   state, `apply`, and a no-change `plan` over the full state.
2. critical path: a DAG of time_sleep resources whose critical path is known;
   apply wall time divided by the critical path, with -parallelism covering
   the graph's width.

Each command runs in its own process; its peak RSS comes from wait4(2).
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ECSPOC = sys.argv[1] if len(sys.argv) > 1 else "target/release/ecspoc"


def run(args, cwd):
    start = time.monotonic()
    proc = subprocess.Popen([ECSPOC] + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    return code, wall, usage.ru_maxrss / 1024.0, err


def scale_config(hubs=10, chains=999, length=10):
    lines = []
    for h in range(hubs):
        lines.append(f'[resource.terraform_data.hub_{h}]\ninput = "hub-{h}"\n')
    for c in range(chains):
        for k in range(length):
            ref = f"terraform_data.hub_{c % hubs}.id" if k == 0 else f"terraform_data.c{c}_{k - 1}.id"
            lines.append(f'[resource.terraform_data.c{c}_{k}]\ninput = "${{{ref}}}"\n')
    return "\n".join(lines), hubs + chains * length


def bench_scale(report):
    text, n = scale_config()
    d = tempfile.mkdtemp(prefix="ecspoc-bench-")
    try:
        with open(os.path.join(d, "main.toml"), "w") as f:
            f.write(text)
        rows = []
        for label, args, expect in [
            ("plan, empty state", ["plan", "-lock=false"], 0),
            ("apply (plan + create all)", ["apply", "-auto-approve", "-parallelism=10"], 0),
            ("plan, no changes, full state", ["plan", "-detailed-exitcode"], 0),
        ]:
            code, wall, rss, err = run(args, d)
            if code != expect:
                sys.exit(f"{label}: exit {code}\n{err}")
            rows.append((label, wall, rss))
        state = json.load(open(os.path.join(d, "terraform.tfstate")))
        count = sum(len(r["instances"]) for r in state["resources"])
        assert count == n, f"state holds {count} instances, expected {n}"
        report.append(f"### Scale: {n} terraform_data resources ({len(text) // 1024} KiB of TOML), chains of 10 under 10 fan-out hubs\n")
        report.append("| command | wall time | peak RSS |")
        report.append("|---|---|---|")
        for label, wall, rss in rows:
            report.append(f"| `{label}` | {wall:.2f} s | {rss:.0f} MB |")
        report.append("")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def sleep_dag():
    """Levels of time_sleep resources; each node depends on every node of the
    level before. Durations differ per node, so the critical path is the sum
    of each level's longest sleep."""
    levels = [[600], [300, 900, 450, 700], [500, 200, 800, 350, 650, 400], [700, 300, 550], [400]]
    lines, prev, critical = [], [], 0
    for li, level in enumerate(levels):
        names = []
        for ni, ms in enumerate(level):
            name = f"l{li}_{ni}"
            deps = ", ".join(f'"time_sleep.{p}"' for p in prev)
            lines.append(f'[resource.time_sleep.{name}]\ncreate_duration = "{ms}ms"\ndepends_on = [{deps}]\n')
            names.append(name)
        critical += max(level)
        prev = names
    width = max(len(l) for l in levels)
    return "\n".join(lines), critical / 1000.0, width, sum(len(l) for l in levels)


def bench_critical_path(report):
    text, critical, width, n = sleep_dag()
    d = tempfile.mkdtemp(prefix="ecspoc-bench-")
    try:
        with open(os.path.join(d, "main.toml"), "w") as f:
            f.write(text)
        code, wall, _, err = run(["apply", "-auto-approve", f"-parallelism={width}"], d)
        if code != 0:
            sys.exit(f"apply: exit {code}\n{err}")
        report.append(f"### Critical path: {n} time_sleep resources in 5 levels, width {width}\n")
        report.append("| critical path | apply wall time (whole command) | ratio |")
        report.append("|---|---|---|")
        report.append(f"| {critical:.2f} s | {wall:.2f} s | {wall / critical:.3f} |")
        report.append("")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    report = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; ecspoc {ECSPOC}\n"]
    bench_scale(report)
    bench_critical_path(report)
    print("\n".join(report))


if __name__ == "__main__":
    main()
