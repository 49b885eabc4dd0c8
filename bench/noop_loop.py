"""The no-op re-run of site.yml in a loop, for work on its cost: converge a copy of the lab model
(scaled by --factor, named with a random prefix, as bench_scale.py does) once, then time
--reruns no-op re-runs through the counting proxies, each with the machine's load, the tasks
started, the module runs and the requests per backend (which do not depend on the load).

--keep leaves the copy in the lab and prints its prefix; --prefix PREFIX re-runs on such a copy
without converging it first (the copy of a prefix is always the same model); the last run without
--keep removes it (leftovers checked; --reruns 0 only removes it). Every copy of a factor takes the
same addresses (scale_model.py), so a kept copy makes bench_scale.py's run of that factor fail on
reverse DNS names another owner holds: remove it first. Not a benchmark of `make bench` (no
bench_ prefix): it writes no results.

  python bench/noop_loop.py [--factor 1] [--reruns 2] [--profile] [--keep] [--prefix PREFIX]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import yaml
from bench_scale import LAB, LAB_MODEL, Proxies, load, run_site
from scale_model import scaled_model

from site_helpers import cleanup_checked  # on the path bench_scale sets


def _line(name: str, run: dict) -> str:
    return (f"{name:<8} {run['seconds']:6.1f}s cpu {run['cpu_s']:5.1f}s changed={run['changed']} tasks={run['tasks']} "
            f"host_results={run['host_results']} module_runs={run['module_runs']} "
            f"requests {run['requests']} load {run['load']}")


def _top(tasks: list[dict], count: int) -> str:
    """The tasks that took most CPU (up to the next task's start: a task of the free strategy
    shares it with the tasks started beside it), one line each."""
    spent = sorted(((after["cpu"] - task["cpu"], task) for task, after in zip(tasks, tasks[1:], strict=False)),
                   key=lambda pair: -pair[0])
    return "\n".join(f"   {cpu:5.2f}s cpu {task['action']:<32} {task['task'][:70]}" for cpu, task in spent[:count])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--factor", type=int, default=1)
    parser.add_argument("--reruns", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="print every task of the last re-run by time")
    parser.add_argument("--keep", action="store_true", help="leave the converged copy in the lab")
    parser.add_argument("--prefix", help="re-run on the copy an earlier --keep left (no first run)")
    parser.add_argument("--stages", action="store_true", help="print seconds and requests per stage")
    parser.add_argument("--dump", type=Path, help="copy each run's plays.json and tasks.json into this folder")
    parser.add_argument("--top", type=int, default=0, help="print the N tasks of each run that took most CPU")
    args = parser.parse_args()
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda number, frame: sys.exit(f"noop_loop: stopped by signal {number}"))
    lab = json.loads((LAB / "endpoints.json").read_text())
    prefix = args.prefix or "b" + secrets.token_hex(3)
    variables = scaled_model(yaml.safe_load(LAB_MODEL.read_text()), args.factor, prefix)
    variables["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    print(f"== factor {args.factor}, prefix {prefix}, load {load()}", flush=True)
    keep = False
    with tempfile.TemporaryDirectory(prefix="s2p-noop-") as tmp, Proxies(lab, Path(tmp)) as proxies:
        extravars = Path(tmp) / "model.json"
        extravars.write_text(json.dumps(variables))
        try:
            runs = ([] if args.prefix else [("first", False)]) + [(f"rerun{i + 1}", True) for i in range(args.reruns)]
            for name, is_rerun in runs:
                run = run_site(proxies, extravars, Path(tmp), profile=args.profile and name == runs[-1][0])
                run["load"] = load()
                print(_line(name, run), flush=True)
                if args.dump:
                    args.dump.mkdir(parents=True, exist_ok=True)
                    for kind in ("plays", "tasks"):
                        shutil.copy(Path(tmp) / f"{kind}.json", args.dump / f"{name}-{kind}.json")
                if args.top:
                    print(_top(json.loads((Path(tmp) / "tasks.json").read_text()), args.top), flush=True)
                if args.stages:
                    print(json.dumps(run["stages"]), flush=True)
                if is_rerun and run["changed"]:
                    print(f"   not a no-op: {run['changed_tasks']}", flush=True)
            keep = args.keep
        finally:
            if keep:
                print(f"kept: re-run with --prefix {prefix} (add --keep again to keep it)", flush=True)
            else:
                cleanup_checked(lab, prefix)
                print(f"cleanup of {prefix} complete (no leftovers)", flush=True)


if __name__ == "__main__":
    main()
