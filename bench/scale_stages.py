"""site.yml's plays as the stages of bench_scale.py, and a run's seconds and requests per stage."""

from __future__ import annotations

# site.yml's plays that start a stage (the stations are items of the stage batches); the other
# plays (each playbook's "Validate the S2P model", "Remember what the identity stage changed")
# count with the next stage that starts.
STAGES = {"Preflight": "preflight", "Provision the model's VMs": "vms", "DNS records of the model": "dns",
          "Certificates of the model": "certificates", "Service accounts and credentials": "identity",
          "Rotate credentials": "identity", "Swarm cluster of the sites": "swarm",
          "Project stacks of the model": "stacks", "Summary per site": "summary"}


def stage_windows(plays: list[dict]) -> list[tuple[str, float, float]]:
    """[(stage, start, end)] of every play, from the plays' start times (the last entry is the end
    of the run); a play of no stage of its own counts with the next play that has one."""
    named = [next((s for prefix, s in STAGES.items() if play["play"].startswith(prefix)), None)
             for play in plays[:-1]]
    stages, upcoming = [], "summary"
    for stage in reversed(named):
        upcoming = stage or upcoming
        stages.append(upcoming)
    stages.reverse()
    stages[0] = "model"  # site.yml's first play validates the model
    return [(stage, play["start"], after["start"])
            for stage, play, after in zip(stages, plays[:-1], plays[1:], strict=True)]


def per_stage(windows, events: dict) -> dict:
    stages: dict[str, dict] = {}
    for stage, start, end in windows:
        entry = stages.setdefault(stage, {"s": 0.0, "requests": {}})
        entry["s"] = round(entry["s"] + end - start, 2)
        for backend, found in events.items():
            count = sum(1 for when, _key in found if start <= when < end)
            if count:
                entry["requests"][backend] = entry["requests"].get(backend, 0) + count
    return stages


# Actions that run inside the controller's worker without starting a module (the model's
# validation is an action plugin of its own); every other action that ran is a module run.
CONTROLLER_ACTIONS = {"esa.s2p.model_validate"} | {f"ansible.builtin.{name}" for name in (
    "set_fact", "debug", "assert", "fail", "add_host", "meta", "include_tasks", "include_role",
    "import_tasks", "import_role", "include_vars", "group_by", "validate_argument_spec")}


def task_counts(tasks: list[dict]) -> dict:
    """What a run did, whatever the machine's load: tasks started, host results that were not
    skipped, and module runs (those of them that started a module)."""
    ran = [(task, sum(n for status, n in task["results"].items() if status != "skipped")) for task in tasks]
    controller = CONTROLLER_ACTIONS | {name.split(".", 2)[2] for name in CONTROLLER_ACTIONS
                                       if name.startswith("ansible.builtin.")}
    return {"tasks": len(tasks), "host_results": sum(n for _task, n in ran),
            "module_runs": sum(n for task, n in ran if task["action"] not in controller)}
