"""Reads a Prometheus text exposition on stdin with prometheus_client's own
parser and prints its families as JSON: name, type, help and samples
(name, labels, value). A line the parser refuses ends it with an error."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families = [
    {"name": f.name, "type": f.type, "help": f.documentation,
     "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
    for f in text_string_to_metric_families(sys.stdin.read())
]
json.dump(families, sys.stdout)
