"""python -m labs doctor: the facts about this runtime and machine that decide what its numbers mean."""

from __future__ import annotations

import argparse
import json
import sys

from labs.core import machine, runtime

NAME = "doctor"
HELP = "facts about this runtime and machine, its speed fingerprint, and what would steady its timings"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print them as JSON")


def say(text: str) -> None:
    """One progress line on stderr: the fingerprint takes seconds, and stdout holds the facts alone."""
    print(f"doctor: {text}", file=sys.stderr, flush=True)


def execute(args: argparse.Namespace) -> int:
    from labs.measure import fingerprint

    say("runtime facts...")
    facts: dict = {"runtime": runtime.facts()}
    say("machine facts...")
    static = machine.static_facts()
    facts["machine"] = {**static, "static_id": machine.static_id(static)}
    kernels = len(fingerprint.KERNELS)
    say(f"speed fingerprint: {kernels} kernels, each timed {fingerprint.REPEATS} times (a few seconds)...")
    facts["fingerprint"] = fingerprint.measure()  # in this process: what `bench` takes in a fresh one
    say("steadiness advice...")
    facts["steadiness"] = [{"what": w, "here": h, "advice": a} for w, h, a in machine.steadiness()]
    if args.json:
        print(json.dumps(facts, indent=2, sort_keys=True))
        return 0
    for section in ("runtime", "machine"):
        for key, value in facts[section].items():
            print(f"{key:<26} {value}")
    seconds = facts["fingerprint"]["seconds"]
    print(f"{'fingerprint':<26} " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in seconds.items()))
    print("steadiness (advice only: nothing is changed; pyperf's own tool changes it):")
    for row in facts["steadiness"]:
        print(f"  {row['what']:<24} {row['here']}" + (f"  -> {row['advice']}" if row["advice"] else ""))
    return 0
