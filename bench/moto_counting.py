#!/usr/bin/env python3
"""tools/moto_fleet.py (moto plus the project's EKS extension), with every AWS
API call counted at the server, by region, service and action.

    python bench/moto_counting.py -H 127.0.0.1 -p 5000

Same options as tools/moto_fleet.py, which is imported, not copied: its
`run_simple` is wrapped so the app it serves sits behind the counter.

    GET  /bench/calls        -> {"total": n, "calls": {"region service Action": n, ...}}
    POST /bench/calls/reset  -> zeroes the counters and empties the timeline
    GET  /bench/timeline     -> [[unix time, region, service, Action], ...] since the last reset, in
                                arrival order (bench/real_timing.py reads when each wait was polled)

`/moto-api/...` (reset, state) and `/bench/...` are not counted.
"""
import io
import json
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import moto_fleet  # noqa: E402

SCOPE_RE = re.compile(r"Credential=[^/\s,]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
# EKS is REST: name its operations from method and path shape.
EKS_OPS = {
    ("GET", "/clusters/*"): "DescribeCluster",
    ("POST", "/clusters"): "CreateCluster",
    ("DELETE", "/clusters/*"): "DeleteCluster",
    ("GET", "/clusters"): "ListClusters",
    ("GET", "/clusters/*/node-groups/*"): "DescribeNodegroup",
    ("GET", "/clusters/*/node-groups"): "ListNodegroups",
    ("POST", "/clusters/*/node-groups"): "CreateNodegroup",
    ("DELETE", "/clusters/*/node-groups/*"): "DeleteNodegroup",
    ("POST", "/clusters/*/node-groups/*/update-config"): "UpdateNodegroupConfig",
    ("GET", "/clusters/*/addons/*"): "DescribeAddon",
    ("GET", "/clusters/*/addons"): "ListAddons",
    ("GET", "/clusters/*/access-entries/*"): "DescribeAccessEntry",
    ("GET", "/clusters/*/access-entries/*/access-policies"): "ListAssociatedAccessPolicies",
    ("GET", "/clusters/*/updates/*"): "DescribeUpdate",
    ("POST", "/clusters/*/update-config"): "UpdateClusterConfig",
    ("GET", "/tags/*"): "ListTagsForResource",
    ("POST", "/tags/*"): "TagResource",
}


def rest_shape(path):
    """/clusters/a/node-groups/b -> /clusters/*/node-groups/*: every second segment is a name."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "tags":
        return "/tags/*"
    return "/" + "/".join("*" if i % 2 else p for i, p in enumerate(parts))


class CallCounter:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.calls = Counter()
        self.timeline = []

    def snapshot(self):
        with self.lock:
            return {"total": sum(self.calls.values()), "calls": dict(self.calls)}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/bench/calls") or path.startswith("/bench/timeline"):
            if environ["REQUEST_METHOD"] == "POST":
                with self.lock:
                    self.calls.clear()
                    self.timeline.clear()
            if path.startswith("/bench/timeline"):
                with self.lock:
                    body = json.dumps(self.timeline).encode()
            else:
                body = json.dumps(self.snapshot()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        scope = SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if path.startswith("/moto-api") or not scope:
            return self.app(environ, start_response)
        region, service = scope.group(1), scope.group(2)
        method = environ["REQUEST_METHOD"]
        if service == "eks":
            shape = rest_shape(path)
            action = EKS_OPS.get((method, shape), f"{method} {shape}")
        else:
            action = self.query_action(environ)
        now = time.time()
        with self.lock:
            self.calls[f"{region} {service} {action}"] += 1
            self.timeline.append((now, region, service, action))
        return self.app(environ, start_response)

    @staticmethod
    def query_action(environ):
        """Action of a query-protocol call (EC2, IAM, STS): in the query string or the form body."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in query:
            return query["Action"][0]
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            raw = stream.read()
        else:
            raw = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        # Put the body back for moto.
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
        form = parse_qs(raw.decode("utf-8", "replace"))
        target = environ.get("HTTP_X_AMZ_TARGET")
        return form.get("Action", [target.split(".")[-1] if target else "?"])[0]


def main(argv=None):
    serve = moto_fleet.run_simple

    def counted(host, port, app, **kwargs):
        serve(host, port, CallCounter(app), **kwargs)

    moto_fleet.run_simple = counted
    moto_fleet.main(argv)


if __name__ == "__main__":
    main()
