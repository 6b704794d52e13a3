"""The steps that ran, written as $KMSEMU_SDK_RESULTS/python.json (CASES.md)."""

import json
import os
from importlib.metadata import version

from casefile import ROOT

SDKS = {"huawei": "huaweicloudsdkkms", "tencent": "tencentcloud-sdk-python-kms"}
steps = []


def record(suite, case, step, problem):
    steps.append({"suite": suite["name"], "case": case["name"], "dialect": suite["dialect"],
                  "op": step["op"], "ok": problem is None, "error": problem})


def write():
    directory = ROOT / os.environ.get("KMSEMU_SDK_RESULTS", "build/spec/sdk-results")
    directory.mkdir(parents=True, exist_ok=True)
    report = {"language": "python",
              "sdks": {cloud: f"{name} {version(name)}" for cloud, name in SDKS.items()},
              "steps": steps}
    (directory / "python.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
