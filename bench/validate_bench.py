#!/usr/bin/env python3
"""Benchmark `campaign-guard validate` on a large generated configuration repository.

    python bench/validate_bench.py [--campaigns 2000] [--repeat 5] [--json PATH] [--keep] [--inherit-env]

Builds, in a temporary directory, a repository of N campaigns (copies of the example
campaigns in campaigns/*.yaml with unique ids and file names), the example templates
(copied once) and rules/ and schemas/ unchanged, checks that it validates, then times as
whole processes (cwd = the generated repository, interpreter = sys.executable):

  a. python -m runner validate                    the whole repository
  b. python -m runner validate campaigns/<one>    one changed file (what pre-commit does)
  c. parse floor: one python -c process that imports yaml and loads every campaign,
     template and rules file with yaml.load(text, Loader=yaml.CSafeLoader)
  d. check-jsonschema --schemafile schemas/campaign.schema.json --disable-formats date-time campaigns/*.yaml

and prints a Markdown table with the targets (a) <= 1.5 x (c), (d) / (a) >= 5 and
(b) <= 0.5 s, judged on medians. Uses hyperfine when it is on PATH, otherwise
time.perf_counter around subprocess runs (one warm-up run each, then --repeat runs,
interleaved round-robin so that drift of the machine hits every measurement alike).

Only the standard library and what campaign-guard already depends on.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent  # the campaign-guard checkout
TOP_ID = re.compile(r"^id:[ \t]*.*$", re.MULTILINE)

# check-jsonschema asserts "format" by default; campaign-guard treats it as an annotation
# (the JSON Schema 2020-12 default), and start_at/end_at are deliberately local times
# without an offset, which RFC 3339 date-time rejects. Without this flag every example
# campaign fails in check-jsonschema, so it would not be doing the same job.
CHECK_JSONSCHEMA_FLAGS = ("--disable-formats", "date-time")

PARSE_FLOOR = """\
import glob, yaml
for pattern in ("campaigns/*.yaml", "campaigns/templates/*.yaml", "rules/*.yaml"):
    for name in sorted(glob.glob(pattern)):
        with open(name, encoding="utf-8") as handle:
            yaml.load(handle.read(), Loader=yaml.CSafeLoader)
"""


@dataclass
class Measurement:
    key: str
    label: str
    argv: list[str]
    expected_rc: int = 0
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system of the process and its children

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None


# --------------------------------------------------------------------------- build


def build_repository(root: Path, campaigns: int) -> list[str]:
    """Write the benchmark repository under root; return the campaign file names."""
    examples = sorted((SOURCE / "campaigns").glob("*.yaml"))
    if not examples:
        raise SystemExit(f"no example campaigns in {SOURCE / 'campaigns'}")
    shutil.copytree(SOURCE / "schemas", root / "schemas")
    shutil.copytree(SOURCE / "rules", root / "rules")
    shutil.copytree(SOURCE / "campaigns" / "templates", root / "campaigns" / "templates")
    names = []
    for index in range(campaigns):
        example = examples[index % len(examples)]
        text = example.read_text(encoding="utf-8")
        if len(TOP_ID.findall(text)) != 1:
            raise SystemExit(f"{example}: expected exactly one top-level 'id:' line")
        round_ = index // len(examples)
        # The first round keeps the original ids, so the functional checks and subscriptions
        # in rules/ that name campaigns still resolve; later rounds get a numbered suffix,
        # which keeps prefixes such as employee_* and *bonus* matching as in the original.
        new_id = example.stem if round_ == 0 else f"{example.stem}_{round_:04d}"
        text = TOP_ID.sub(f"id: {new_id}", text, count=1)
        name = f"{new_id}.yaml"
        (root / "campaigns" / name).write_text(text, encoding="utf-8")
        names.append(name)
    return sorted(names)


def check_jsonschema_exe() -> Path:
    exe = Path(sys.executable).parent / "check-jsonschema"
    if not exe.exists():
        raise SystemExit(f"{exe} not found; install the test extra: pip install -e '.[test]'")
    return exe


def run_quiet(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def sanity_checks(root: Path, scratch: Path, measurements: list[Measurement]) -> None:
    """Every command must do its job on the generated repository before it is timed."""
    for m in measurements:
        done = run_quiet(m.argv, root)
        if done.returncode != m.expected_rc:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"({m.key}) {m.label}: exit {done.returncode}, expected {m.expected_rc}")
        print(f"  ok ({m.key}) exit {done.returncode}", file=sys.stderr)

    # check-jsonschema must really validate, including what the campaign schema takes from
    # common.schema.json through its relative $ref: a copy whose only fault is an id that
    # breaks common.schema.json#/$defs/id must fail, and an intact copy must pass.
    exe = str(check_jsonschema_exe())
    example = sorted((root / "campaigns").glob("*.yaml"))[0]
    text = example.read_text(encoding="utf-8")
    intact = scratch / "intact.yaml"
    broken = scratch / "broken_ref.yaml"
    intact.write_text(text, encoding="utf-8")
    broken.write_text(TOP_ID.sub('id: "Not A Valid Id!"', text, count=1), encoding="utf-8")
    base = [exe, "--schemafile", "schemas/campaign.schema.json", *CHECK_JSONSCHEMA_FLAGS]
    ok = run_quiet([*base, str(intact)], root)
    bad = run_quiet([*base, str(broken)], root)
    if ok.returncode != 0:
        raise SystemExit(f"check-jsonschema rejects an intact campaign:\n{ok.stdout}{ok.stderr}")
    if bad.returncode != 1 or "$.id" not in bad.stdout or "does not match" not in bad.stdout:
        raise SystemExit(
            "check-jsonschema did not report the id that violates common.schema.json#/$defs/id; "
            f"the relative $ref is not resolved:\n{bad.stdout}{bad.stderr}"
        )
    print(
        "  ok check-jsonschema resolves common.schema.json: intact copy exit 0, "
        f"broken copy exit {bad.returncode} ({bad.stdout.strip().splitlines()[-1].strip()})",
        file=sys.stderr,
    )

    # campaign-guard must catch the same fault (otherwise (a) would be cheaper by doing less).
    shutil.copy(broken, root / "campaigns" / "zz_broken_ref.yaml")
    try:
        done = run_quiet([sys.executable, "-m", "runner", "validate", "campaigns/zz_broken_ref.yaml"], root)
    finally:
        (root / "campaigns" / "zz_broken_ref.yaml").unlink()
    if done.returncode != 1 or "schema.violation" not in done.stdout:
        raise SystemExit(f"campaign-guard did not reject the broken copy:\n{done.stdout}{done.stderr}")
    print("  ok campaign-guard rejects the broken copy: exit 1 schema.violation", file=sys.stderr)


# --------------------------------------------------------------------------- time


def time_with_perf_counter(measurements: list[Measurement], root: Path, repeat: int) -> None:
    env = os.environ.copy()
    for m in measurements:  # warm-up: page cache, .pyc files
        run_quiet(m.argv, root)
    for _ in range(repeat):
        for m in measurements:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(
                m.argv, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
            )
            elapsed = time.perf_counter() - start
            if done.returncode != m.expected_rc:
                raise SystemExit(f"({m.key}) exited {done.returncode} during timing")
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            m.times.append(elapsed)
            m.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def time_with_hyperfine(
    hyperfine: str, measurements: list[Measurement], root: Path, repeat: int, scratch: Path
) -> None:
    for m in measurements:
        export = scratch / f"hyperfine_{m.key}.json"
        command = shlex.join(m.argv)
        subprocess.run(
            [
                hyperfine,
                "--warmup",
                "1",
                "--runs",
                str(repeat),
                "--style",
                "none",
                "--export-json",
                str(export),
                command,
            ],
            cwd=root,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result = json.loads(export.read_text())["results"][0]
        m.times = list(result["times"])
        m.cpu = [result["user"] + result["system"]]  # hyperfine reports only the mean


# --------------------------------------------------------------------------- report


def code_version() -> str:
    """The commit of the checkout being measured plus a digest of its runner/ and schemas/.

    The package is installed editable, so a commit or an edit landing during a run changes
    what is timed; main() compares this before and after and warns. Commits that touch
    neither directory leave the digest alone.
    """
    try:
        head = run_quiet(["git", "rev-parse", "--short", "HEAD"], SOURCE).stdout.strip()
        trees = run_quiet(["git", "rev-parse", "HEAD:runner", "HEAD:schemas"], SOURCE).stdout
        diff = run_quiet(["git", "diff", "HEAD", "--", "runner", "schemas"], SOURCE).stdout
    except OSError:
        return "unknown"
    digest = hashlib.sha1((trees + diff).encode()).hexdigest()[:10]
    return f"{head or 'unknown'} (runner+schemas {digest}{', uncommitted changes' if diff else ''})"


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import yaml

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "pyyaml": yaml.__version__,
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "platform": platform.platform(),
    }


def targets(by_key: dict[str, Measurement]) -> list[dict[str, object]]:
    a, b, c, d = (by_key[k].median for k in "abcd")
    return [
        {"target": "(a) <= 1.5 x (c)", "value": a / c, "shown": f"(a)/(c) = {a / c:.2f}x", "met": a / c <= 1.5},
        {"target": "(a) >= 5x faster than (d)", "value": d / a, "shown": f"(d)/(a) = {d / a:.2f}x", "met": d / a >= 5},
        {"target": "(b) <= 0.5 s", "value": b, "shown": f"(b) = {b:.3f} s", "met": b <= 0.5},
    ]


def markdown(measurements: list[Measurement], results: list[dict[str, object]], repeat: int) -> str:
    lines = [
        "| measurement | median (s) | min (s) | CPU user+sys, median (s) |",
        "|---|---:|---:|---:|",
    ]
    for m in measurements:
        cpu = "-" if m.cpu_median is None else f"{m.cpu_median:.3f}"
        lines.append(f"| ({m.key}) {m.label} | {m.median:.3f} | {m.min:.3f} | {cpu} |")
    lines += ["", "| target (on medians) | measured | verdict |", "|---|---:|---|"]
    for r in results:
        lines.append(f"| {r['target']} | {r['shown']} | {'met' if r['met'] else '**MISSED**'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=2000, help="number of campaigns (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the raw numbers here")
    parser.add_argument("--keep", action="store_true", help="keep the generated repository and print its path")
    parser.add_argument(
        "--inherit-env",
        action="store_true",
        help="run the commands in this environment as is (default: unset PYTHONDONTWRITEBYTECODE and keep a .pyc "
        "cache in the temporary directory, like a developer machine)",
    )
    parser.add_argument("--no-hyperfine", action="store_true", help="time with perf_counter even if hyperfine exists")
    args = parser.parse_args()
    if args.campaigns < 1 or args.repeat < 1:
        parser.error("--campaigns and --repeat must be at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="campaign-guard-bench-"))
    if not args.inherit_env:
        # Measure what a developer's machine or a pre-commit environment sees: compiled .pyc
        # files. With PYTHONDONTWRITEBYTECODE set (as in some containers) and an editable
        # install, every run would compile runner/ from source again. The cache goes to the
        # temporary directory so that nothing is written next to the sources; the warm-up
        # run fills it. This applies to every measured command alike.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    try:
        root = workdir / "repo"
        scratch = workdir / "scratch"
        root.mkdir()
        scratch.mkdir()
        names = build_repository(root, args.campaigns)
        one = f"campaigns/{names[len(names) // 2]}"
        py = sys.executable
        cjs = str(check_jsonschema_exe())
        measurements = [
            Measurement("a", "`python -m runner validate` (whole repository)", [py, "-m", "runner", "validate"]),
            Measurement("b", f"`python -m runner validate {one}` (one file)", [py, "-m", "runner", "validate", one]),
            Measurement("c", "parse floor: `python -c` yaml.load(CSafeLoader) of every file", [py, "-c", PARSE_FLOOR]),
            Measurement(
                "d",
                "`check-jsonschema --schemafile schemas/campaign.schema.json --disable-formats date-time "
                "campaigns/*.yaml`",
                [
                    cjs,
                    "--schemafile",
                    "schemas/campaign.schema.json",
                    *CHECK_JSONSCHEMA_FLAGS,
                    *(f"campaigns/{n}" for n in names),
                ],
            ),
        ]
        files = (
            len(names)
            + len(list((root / "campaigns/templates").glob("*.yaml")))
            + len(list((root / "rules").glob("*.yaml")))
        )
        print(f"repository: {root} ({args.campaigns} campaigns, {files} YAML files)", file=sys.stderr)
        version_before = code_version()
        print(f"campaign-guard checkout: {version_before}", file=sys.stderr)
        print("sanity checks:", file=sys.stderr)
        sanity_checks(root, scratch, measurements)

        hyperfine = None if args.no_hyperfine else shutil.which("hyperfine")
        print(
            f"timing with {'hyperfine' if hyperfine else 'time.perf_counter over subprocess runs'}, "
            f"{args.repeat} runs each after 1 warm-up ...",
            file=sys.stderr,
        )
        if hyperfine:
            time_with_hyperfine(hyperfine, measurements, root, args.repeat, scratch)
        else:
            time_with_perf_counter(measurements, root, args.repeat)

        version_after = code_version()
        if version_after != version_before:
            print(
                f"WARNING: the checkout changed during the run ({version_before} -> {version_after}); "
                "the numbers mix two versions, run again",
                file=sys.stderr,
            )
        by_key = {m.key: m for m in measurements}
        results = targets(by_key)
        print(markdown(measurements, results, args.repeat))

        if args.json:
            payload = {
                "benchmark": "validate",
                "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "campaigns": args.campaigns,
                "yaml_files": files,
                "repeat": args.repeat,
                "timer": "hyperfine" if hyperfine else "perf_counter",
                "machine": machine(),
                "campaign_guard_commit": version_before,
                "checkout_changed_during_run": version_after != version_before,
                "check_jsonschema_flags": list(CHECK_JSONSCHEMA_FLAGS),
                "bytecode_cache": "inherited environment"
                if args.inherit_env
                else "PYTHONPYCACHEPREFIX in the temp dir",
                "measurements": {
                    m.key: {
                        "label": m.label,
                        "argv": [*m.argv[:5], "campaigns/*.yaml"] if m.key == "d" else m.argv,
                        "times": m.times,
                        "cpu_times": m.cpu,
                        "median": m.median,
                        "min": m.min,
                    }
                    for m in measurements
                },
                "targets": results,
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        return 0  # verdicts are in the table; missing a target is a finding, not a crash
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
