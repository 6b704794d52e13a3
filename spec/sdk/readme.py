#!/usr/bin/env python3
"""The SDK parts of README.md and docs/sdk.md, kept honest by make test.

  readme.py tally LANG           "P F": cases passed and failed in LANG's results
  readme.py snippets             run every snippet of both files against a fresh kmsemu
  readme.py matrix check|write   compare docs/sdk.md's operation x language matrix
                                 with the results of the last run, or rewrite it

Results are the files the runners write ($KMSEMU_SDK_RESULTS, default
build/spec/sdk-results/<lang>.json; their shape is in spec/sdk/CASES.md).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RESULTS = os.environ.get("KMSEMU_SDK_RESULTS", os.path.join(ROOT, "build/spec/sdk-results"))
LANGS = ["python", "go", "java", "node"]
TITLES = {"python": "Python", "go": "Go", "java": "Java", "node": "Node"}
EXT = {"python": "py", "go": "go", "java": "java", "node": "js"}

# What each snippet must print: the data key it made, and the code of the
# error the SDK raised for the disabled key.
SNIPPET_OUTPUT = {
    "huawei": [r"^data key: \d+ bytes$", r"^error: KMS\.0209$"],
    "tencent": [r"^data key: \d+ bytes$", r"^error: ResourceUnavailable\.CmkDisabled$"],
}
SNIPPET_RE = re.compile(r"<!-- snippet: (\w+)/(\w+) -->\n```\w*\n(.*?)```", re.S)
MATRIX_RE = re.compile(r"(<!-- sdk-matrix:[^\n]*-->\n)(.*?)(<!-- /sdk-matrix -->)", re.S)


def load(lang):
    path = os.path.join(RESULTS, lang + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def tally(lang):
    res = load(lang)
    cases = {}
    for step in res["steps"] if res else []:
        key = (step["suite"], step["case"])
        cases[key] = cases.get(key, True) and step["ok"]
    passed = sum(1 for ok in cases.values() if ok)
    print(passed, len(cases) - passed)


def readme(name="README.md"):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


SNIPPET_FILES = ["README.md", "docs/sdk.md"]
MATRIX_FILE = "docs/sdk.md"


def start_kmsemu():
    binary = os.path.join(ROOT, os.environ.get("KMSEMU_BIN", "build/kmsemu"))
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--scenario", "scenarios/default.lua"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"kmsemu listening on http://127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit("kmsemu did not start: " + line + proc.stderr.read())
    return proc, m.group(1)


def run_snippet(lang, cloud, code, port, scratch):
    path = os.path.join(scratch, f"{cloud}.{EXT[lang]}")
    if lang == "java":  # the single-file launcher wants the class name as file name
        name = re.search(r"public\s+class\s+(\w+)", code).group(1)
        path = os.path.join(scratch, name + ".java")
    with open(path, "w") as f:
        f.write(code.replace("127.0.0.1:8080", "127.0.0.1:" + port))
    run = subprocess.run(["bash", f"spec/sdk/{lang}/run-snippet.sh", path], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    lines = run.stdout.splitlines()
    missing = [p for p in SNIPPET_OUTPUT[cloud] if not any(re.match(p, l) for l in lines)]
    if run.returncode == 0 and not missing:
        return None
    return f"exit {run.returncode}, missing {missing}\n{run.stdout}{run.stderr}"


def snippets():
    found = [s for name in SNIPPET_FILES for s in SNIPPET_RE.findall(readme(name))]
    langs = os.environ.get("SDK_LANGS", " ".join(LANGS)).split()
    want = {(lang, cloud) for lang in langs for cloud in SNIPPET_OUTPUT}
    passed = failed = 0
    for pair in sorted(want - {(l, c) for l, c, _ in found}):
        print("not ok - no snippet for %s/%s in %s" % (pair + (" or ".join(SNIPPET_FILES),)))
        failed += 1
    proc, port = start_kmsemu()
    try:
        for lang, cloud, code in found:
            if lang not in langs:
                continue
            scratch = tempfile.mkdtemp(prefix="snippet-", dir=os.path.join(ROOT, "build"))
            problem = run_snippet(lang, cloud, code, port, scratch)
            shutil.rmtree(scratch, ignore_errors=True)
            print(("ok" if problem is None else "not ok") + f" - snippet {lang}/{cloud}")
            if problem:
                print("  " + problem.replace("\n", "\n  "))
            passed += problem is None
            failed += problem is not None
    finally:
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=10) != 0:
            print("not ok - kmsemu serving the snippets exited %d\n%s" % (proc.returncode, proc.stderr.read()))
            failed += 1
    print(passed, failed)


MARKS = ["pass", "core", "FAIL"]  # better to worse


def mark(step):
    if not step["ok"]:
        return "FAIL"
    return "core" if step.get("via") == "core" else "pass"


def worse(a, b):
    return max(a, b, key=MARKS.index)


def matrix_table():
    """The matrix from the results: one row per dialect and operation."""
    results = {lang: load(lang) for lang in LANGS}
    cells, sdks = {}, {}
    for lang, res in results.items():
        if res is None:
            continue
        for dialect, version in res.get("sdks", {}).items():
            sdks.setdefault(dialect, []).append(f"{TITLES[lang]} {version}")
        for step in res["steps"]:
            cell = cells.setdefault((step["dialect"], step["op"]), {})
            cell[lang] = worse(cell.get(lang, "pass"), mark(step))
    rows = ["| dialect | operation | " + " | ".join(TITLES[l] for l in LANGS) + " |",
            "|---|---|" + "---|" * len(LANGS)]
    routes = huawei_routes()
    for (dialect, op), cell in sorted(cells.items()):
        marks = [cell.get(l, "not run") for l in LANGS]
        name = f"{op} (`{routes[op][1].split('/kms/')[-1]}`)" if dialect == "huawei" else op
        rows.append(f"| {dialect} | {name} | " + " | ".join(marks) + " |")
    lines = [f"- {d}: " + "; ".join(v) + "." for d, v in sorted(sdks.items())]
    return "SDK versions:\n\n" + "\n".join(lines) + "\n\n" + "\n".join(rows) + "\n"


def huawei_routes():
    with open(os.path.join(ROOT, "spec/sdk/cases.json")) as f:
        return json.load(f)["huawei_routes"]


# The Huawei dialect's routes: operation name -> (method, full path).
ROUTES_LUA = r"""
local h = require "kmsemu.dialect.huawei"
local base = { kms = "/v1.0/{project_id}/kms/", project = "/v1.0/{project_id}/", v2 = "/v2/{project_id}/kms/" }
for _, r in ipairs(h.ROUTES) do print(r.op, r.method, base[r.api] .. r.path) end
for _, r in ipairs(h.ROOT_ROUTES) do print(r.op, r.method, r.path) end
"""


def dialect_routes():
    env = dict(os.environ, LUA_PATH="./lua/?.lua;./lua/?/init.lua;;",
               LUA_CPATH=os.path.join(os.environ.get("BUILD", "build"), "lib/?.so") + ";;")
    out = subprocess.run(["lua5.4", "-e", ROUTES_LUA], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return {op: (method, path) for op, method, path in (l.split("\t") for l in out.splitlines())}


def covered_ops():
    """(dialect, op) for each operation README's coverage tables call
    supported or differs, Huawei's mapped to SDK methods through the
    dialect's routes and cases.json's. The IAM token route is IAM's API,
    not a KMS client method."""
    routes, ours = huawei_routes(), dialect_routes()
    # Placeholders are matched by position: the dialect says {tag} where the SDK says {key}.
    shape = lambda path: re.sub(r"\{\w+\}", "{}", path.replace("{resource_instances}", "resource_instances"))
    by_route = {(m, shape(p)): op for op, (m, p) in routes.items()}
    text, ops = readme(), []
    section = re.search(r"<!-- huawei-coverage.*?<!-- /huawei-coverage -->", text, re.S).group(0)
    for m in re.finditer(r"^\| [^|]+ \| ([^|]+) \| (supported|differs) \|$", section, re.M):
        for name in re.findall(r"`([^`]+)`", m.group(1)):
            method, path = ours[name]
            if path != "/v3/auth/tokens":
                ops.append(("huawei", by_route.get((method, shape(path)), path)))
    section = re.search(r"<!-- tencent-coverage.*?<!-- /tencent-coverage -->", text, re.S).group(0)
    for m in re.finditer(r"^\| [^|]+ \| ([\w ]+) \| (supported|differs) \|$", section, re.M):
        ops.extend(("tencent", action) for action in m.group(1).split())
    return ops


def check_coverage():
    rows = {}
    for line in matrix_table().splitlines():
        cols = [c.strip() for c in line.strip("|").split("|")]
        if len(cols) == 2 + len(LANGS):
            rows[(cols[0], cols[1].split(" ")[0])] = cols[2:]
    bad = [f"{d} {op}: {rows.get((d, op), 'not in any case')}" for d, op in covered_ops()
           if any(m not in ("pass", "core") for m in rows.get((d, op), ["missing"]))]
    print(("ok" if not bad else "not ok") +
          " - every operation README calls supported or differs passes in every language")
    for b in bad:
        print("  " + b)
    return not bad


def matrix(mode):
    text = readme(MATRIX_FILE)
    m = MATRIX_RE.search(text)
    if not m:
        raise SystemExit(MATRIX_FILE + " has no <!-- sdk-matrix --> section")
    table = matrix_table()
    if mode == "write":
        with open(os.path.join(ROOT, MATRIX_FILE), "w") as f:
            f.write(text[:m.start(2)] + table + text[m.end(2):])
        return
    same = m.group(2) == table
    print(("ok" if same else "not ok") + " - the SDK matrix in " + MATRIX_FILE + " is the one the last run produced")
    if not same:
        print("  run `make matrix` after make test, and commit " + MATRIX_FILE)
    covered = check_coverage()
    print(int(same) + int(covered), int(not same) + int(not covered))


if __name__ == "__main__":
    cmd = sys.argv[1:]
    if cmd[:1] == ["tally"] and len(cmd) == 2:
        tally(cmd[1])
    elif cmd == ["snippets"]:
        snippets()
    elif cmd[:1] == ["matrix"] and len(cmd) == 2 and cmd[1] in ("check", "write"):
        matrix(cmd[1])
    else:
        raise SystemExit(__doc__)
