#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between the provider and moto.

    python tools/fault_proxy.py --target http://127.0.0.1:5000 -H 127.0.0.1 -p 5001

Every request is forwarded to --target unchanged (headers included, so SigV4
signatures still verify when moto enforces IAM), unless the schedule says to
fail it. The AWS service and region come from the SigV4 credential scope; the
action from `Action=` (EC2, IAM, STS: query protocol), from the REST path
(EKS) or from X-Amz-Target (CloudWatch Logs, SQS, EventBridge: JSON
protocol). Errors are
shaped like the real service's, so the SDK classifies them as it would
against AWS:

  EC2  <Response><Errors><Error><Code>RequestLimitExceeded</Code>...  (HTTP 503)
  IAM  <ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>...
  EKS  JSON {"message": ...} with the x-amzn-ErrorType header
  Logs, SQS, EventBridge  JSON {"__type": "ThrottlingException", "message": ...}
                          (HTTP 400; SQS's throttling code is RequestThrottled)

Control endpoints (not forwarded):

  POST /fault-proxy/schedule   {"seed": 7, "rules": [RULE, ...]}  replaces the
                               schedule and clears the counters
  GET  /fault-proxy/stats      counts: forwarded, injected per kind and per
                               action, and every "service:Action" forwarded
  POST /fault-proxy/clear      no rules, counters cleared

FAULT_PROXY_LOG=FILE appends every error moto itself answered to FILE.

A RULE matches requests and says what to do with them:

  service      "ec2" | "eks" | "iam" | "sts" | "logs" | "sqs" | "events"
               (default: any)
  action       regex matched against the whole action name (default: any)
  region       exact region (default: any)
  body         regex searched in the request body (say, only the CreateRoute
               calls that target a peering: "VpcPeeringConnectionId")
  kind         one kind, or a list to pick from at random (seeded):
                 throttle   the service's throttling error
                 http429    429 TooManyRequestsException
                 http503    503 ServiceUnavailable
                 http500    500 InternalError (EKS: ServerException)
                 reset      the connection is reset; nothing is forwarded
                 slow       forwarded after `delay` seconds (default 1)
                 deny       403 access denied: a permanent failure
                 peering_pending   real EC2 timing for peerings: after create,
                            `polls` describes show initiating-request; after
                            accept, `polls` describes still show
                            pending-acceptance and ModifyVpcPeeringConnection
                            Options answers OperationNotPermitted until then
                 cluster_creating  after CreateCluster, the first `polls`
                            DescribeCluster answers say CREATING
  probability  chance a matching call is hit (default 1)
  nth          hit only the nth matching call(s): an int or a list (1-based)
  count        at most this many hits (default unlimited)

Faults are injected before forwarding (except `slow`), so a failed call never
reached moto: like a throttled or rejected call against AWS, it had no effect.
"""
import argparse
import http.client
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SCOPE_RE = re.compile(r"Credential=[^/\s,]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

# EKS REST routes: (method, path pattern) -> operation, as in the EKS API reference.
EKS_ROUTES = [
    ("POST", r"/clusters", "CreateCluster"),
    ("GET", r"/clusters", "ListClusters"),
    ("GET", r"/clusters/[^/]+", "DescribeCluster"),
    ("DELETE", r"/clusters/[^/]+", "DeleteCluster"),
    ("POST", r"/clusters/[^/]+/update-config", "UpdateClusterConfig"),
    ("POST", r"/clusters/[^/]+/updates", "UpdateClusterVersion"),
    ("GET", r"/clusters/[^/]+/updates", "ListUpdates"),
    ("GET", r"/clusters/[^/]+/updates/[^/]+", "DescribeUpdate"),
    ("POST", r"/clusters/[^/]+/node-groups", "CreateNodegroup"),
    ("GET", r"/clusters/[^/]+/node-groups", "ListNodegroups"),
    ("GET", r"/clusters/[^/]+/node-groups/[^/]+", "DescribeNodegroup"),
    ("DELETE", r"/clusters/[^/]+/node-groups/[^/]+", "DeleteNodegroup"),
    ("POST", r"/clusters/[^/]+/node-groups/[^/]+/update-config", "UpdateNodegroupConfig"),
    ("POST", r"/clusters/[^/]+/node-groups/[^/]+/update-version", "UpdateNodegroupVersion"),
    ("POST", r"/clusters/[^/]+/addons", "CreateAddon"),
    ("GET", r"/clusters/[^/]+/addons", "ListAddons"),
    ("GET", r"/clusters/[^/]+/addons/[^/]+", "DescribeAddon"),
    ("DELETE", r"/clusters/[^/]+/addons/[^/]+", "DeleteAddon"),
    ("POST", r"/clusters/[^/]+/addons/[^/]+/update", "UpdateAddon"),
    ("GET", r"/addons/supported-versions", "DescribeAddonVersions"),
    ("GET", r"/cluster-versions", "DescribeClusterVersions"),
    ("POST", r"/clusters/[^/]+/access-entries", "CreateAccessEntry"),
    ("GET", r"/clusters/[^/]+/access-entries", "ListAccessEntries"),
    ("GET", r"/clusters/[^/]+/access-entries/[^/]+", "DescribeAccessEntry"),
    ("POST", r"/clusters/[^/]+/access-entries/[^/]+", "UpdateAccessEntry"),
    ("DELETE", r"/clusters/[^/]+/access-entries/[^/]+", "DeleteAccessEntry"),
    ("POST", r"/clusters/[^/]+/access-entries/[^/]+/access-policies", "AssociateAccessPolicy"),
    ("GET", r"/clusters/[^/]+/access-entries/[^/]+/access-policies", "ListAssociatedAccessPolicies"),
    ("DELETE", r"/clusters/[^/]+/access-entries/[^/]+/access-policies/[^/]+", "DisassociateAccessPolicy"),
    ("GET", r"/addons/configuration-schemas", "DescribeAddonConfiguration"),
    ("POST", r"/clusters/[^/]+/pod-identity-associations", "CreatePodIdentityAssociation"),
    ("GET", r"/clusters/[^/]+/pod-identity-associations", "ListPodIdentityAssociations"),
    ("GET", r"/clusters/[^/]+/pod-identity-associations/[^/]+", "DescribePodIdentityAssociation"),
    ("POST", r"/clusters/[^/]+/pod-identity-associations/[^/]+", "UpdatePodIdentityAssociation"),
    ("DELETE", r"/clusters/[^/]+/pod-identity-associations/[^/]+", "DeletePodIdentityAssociation"),
    ("POST", r"/tags/.+", "TagResource"),
    ("DELETE", r"/tags/.+", "UntagResource"),
    ("GET", r"/tags/.+", "ListTagsForResource"),
]
EKS_ROUTES = [(m, re.compile(p + "/?"), op) for m, p, op in EKS_ROUTES]


# Services on the JSON protocol: the action is in X-Amz-Target, the error code in __type.
JSON_SERVICES = ("logs", "sqs", "events")


def eks_operation(method, path):
    for m, rx, op in EKS_ROUTES:
        if m == method and rx.fullmatch(path):
            return op
    return f"{method} {path}"


def esc(text):
    return "".join(XML_ESCAPES.get(c, c) for c in text)


def error_response(service, status, code, message):
    """(status, headers, body) of an error as `service` answers it."""
    request_id = str(uuid.uuid4())
    if service == "eks":
        body = json.dumps({"message": message}).encode()
        return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code,
                        "x-amzn-RequestId": request_id}, body
    if service in JSON_SERVICES:  # JSON protocol: the code is in __type
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}, body
    if service == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{esc(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
    else:  # iam, sts and other query services
        kind = "Receiver" if status >= 500 else "Sender"
        body = (f"<ErrorResponse xmlns=\"https://{service}.amazonaws.com/doc/2010-05-08/\"><Error>"
                f"<Type>{kind}</Type><Code>{code}</Code><Message>{esc(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()


def fault_response(service, kind, action):
    """The error for an injected fault of `kind`."""
    if kind == "throttle":
        return {
            "ec2": lambda: error_response("ec2", 503, "RequestLimitExceeded", "Request limit exceeded."),
            "eks": lambda: error_response("eks", 429, "ThrottlingException", "Rate exceeded"),
            "logs": lambda: error_response("logs", 400, "ThrottlingException", "Rate exceeded"),
            "events": lambda: error_response("events", 400, "ThrottlingException", "Rate exceeded"),
            "sqs": lambda: error_response("sqs", 400, "RequestThrottled", "Rate exceeded"),
        }.get(service, lambda: error_response(service, 400, "Throttling", "Rate exceeded"))()
    if kind == "http429":
        return error_response(service, 429, "TooManyRequestsException", "Too many requests")
    if kind == "http503":
        return error_response(service, 503, "ServiceUnavailable", "Service is unavailable. Try again later.")
    if kind == "http500":
        code = "ServerException" if service == "eks" else "InternalError" if service == "ec2" else "ServiceFailure"
        return error_response(service, 500, code, "An internal error has occurred.")
    if kind == "deny":
        if service == "eks" or service in JSON_SERVICES:
            return error_response(service, 403, "AccessDeniedException",
                                  f"not authorized to perform {service}:{action}")
        code = "UnauthorizedOperation" if service == "ec2" else "AccessDenied"
        return error_response(service, 403, code, f"You are not authorized to perform {service}:{action}.")
    raise ValueError(f"unknown fault kind {kind!r}")


class Schedule:
    """Rules, their seeded randomness, counters and the timing emulations."""

    def __init__(self, spec=None):
        spec = spec or {}
        self.lock = threading.Lock()
        self.random = random.Random(spec.get("seed", 0))
        self.rules = []
        for raw in spec.get("rules", []):
            rule = dict(raw)
            rule["_action"] = re.compile(rule["action"]) if rule.get("action") else None
            rule["_body"] = re.compile(rule["body"]) if rule.get("body") else None
            nth = rule.get("nth")
            rule["_nth"] = None if nth is None else set(nth if isinstance(nth, list) else [nth])
            rule["_seen"] = 0
            rule["_hits"] = 0
            self.rules.append(rule)
        self.forwarded = Counter()
        self.injected = Counter()         # kind -> n
        self.injected_actions = Counter()  # "kind service:Action" -> n
        self.seen = Counter()              # "service:Action" forwarded -> n
        # Timing emulations: id -> polls left.
        self.peering_initiating = {}
        self.peering_provisioning = {}
        self.cluster_creating = {}

    def emulation(self, kind):
        for rule in self.rules:
            if rule.get("kind") == kind:
                return rule
        return None

    def decide(self, service, action, region, body=""):
        """The fault kind for this call, or None to forward it."""
        with self.lock:
            for rule in self.rules:
                kinds = rule.get("kind")
                if kinds in ("peering_pending", "cluster_creating"):
                    continue
                if rule.get("service") and rule["service"] != service:
                    continue
                if rule["_action"] and not rule["_action"].fullmatch(action):
                    continue
                if rule.get("region") and rule["region"] != region:
                    continue
                if rule["_body"] and not rule["_body"].search(body):
                    continue
                rule["_seen"] += 1
                if rule["_nth"] is not None and rule["_seen"] not in rule["_nth"]:
                    continue
                if rule.get("count") is not None and rule["_hits"] >= rule["count"]:
                    continue
                if self.random.random() >= rule.get("probability", 1.0):
                    continue
                rule["_hits"] += 1
                kind = kinds if isinstance(kinds, str) else self.random.choice(kinds)
                self.injected[kind] += 1
                self.injected_actions[f"{kind} {service}:{action}"] += 1
                return kind, rule
        return None, None

    def count(self, counter, key):
        with self.lock:
            counter[key] += 1

    def stats(self):
        with self.lock:
            return {
                "forwarded": sum(self.forwarded.values()),
                "injected": dict(self.injected),
                "injected_total": sum(self.injected.values()),
                "injected_actions": dict(self.injected_actions),
                "actions": dict(self.seen),
            }


class Proxy(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, target):
        super().__init__(address, Handler)
        parts = urlsplit(target)
        self.target = (parts.hostname, parts.port or 80)
        self.schedule = Schedule()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects

    def log_message(self, *_):
        pass

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status, headers, body):
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reset(self):
        # SO_LINGER 0: close() sends RST, as a dropped connection would.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def control(self, body):
        server = self.server
        if self.command == "POST" and self.path == "/fault-proxy/schedule":
            server.schedule = Schedule(json.loads(body or b"{}"))
            return self.reply(200, {"Content-Type": "application/json"}, b"{}")
        if self.command == "POST" and self.path == "/fault-proxy/clear":
            server.schedule = Schedule()
            return self.reply(200, {"Content-Type": "application/json"}, b"{}")
        if self.command == "GET" and self.path == "/fault-proxy/stats":
            return self.reply(200, {"Content-Type": "application/json"},
                              json.dumps(server.schedule.stats()).encode())
        return self.reply(404, {"Content-Type": "text/plain"}, b"unknown control endpoint")

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("/fault-proxy/"):
            return self.control(body)
        schedule = self.server.schedule
        scope = SCOPE_RE.search(self.headers.get("Authorization", ""))
        region, service = scope.groups() if scope else ("", "")
        path = urlsplit(self.path).path
        params = {}
        if service in ("ec2", "iam", "sts"):
            params = parse_qs(urlsplit(self.path).query)
            if b"=" in body:
                params.update(parse_qs(body.decode("utf-8", "replace")))
            action = (params.get("Action") or ["?"])[0]
        elif service == "eks":
            action = eks_operation(self.command, path)
        elif self.headers.get("X-Amz-Target"):  # "Logs_20140328.CreateLogGroup", "AmazonSQS.CreateQueue"
            action = self.headers["X-Amz-Target"].rsplit(".", 1)[-1]
        else:
            action = f"{self.command} {path}"
        if service:
            early = self.emulate_before(schedule, service, action, params)
            if early:
                return self.reply(*early)
            kind, rule = schedule.decide(service, action, region, body.decode("utf-8", "replace"))
            if kind == "reset":
                return self.reset()
            if kind and kind != "slow":
                return self.reply(*fault_response(service, kind, action))
            if kind == "slow":
                time.sleep(float(rule.get("delay", 1)))
        status, headers, data = self.forward(body)
        if status >= 400 and os.environ.get("FAULT_PROXY_LOG"):
            # Debugging aid: moto's own error answers, one line each.
            with open(os.environ["FAULT_PROXY_LOG"], "a", encoding="utf-8") as log:
                log.write(f"{status} {service}:{action} {data[:400]!r}\n")
        if service:
            schedule.count(schedule.forwarded, service)
            schedule.count(schedule.seen, f"{service}:{action}")
            if status < 300:
                data = self.emulate_after(schedule, service, action, params, data)
        return self.reply(status, headers, data)

    def forward(self, body):
        conn = http.client.HTTPConnection(*self.server.target, timeout=300)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    # ----- real EC2/EKS timing moto lacks ------------------------------------

    def emulate_before(self, schedule, service, action, params):
        """An answer given instead of forwarding, or None."""
        if service == "ec2" and action == "ModifyVpcPeeringConnectionOptions":
            pcx = (params.get("VpcPeeringConnectionId") or [""])[0]
            with schedule.lock:
                not_active = schedule.peering_provisioning.get(pcx, 0) > 0
            if not_active:
                schedule.count(schedule.injected, "peering_pending")
                schedule.count(schedule.injected_actions, f"peering_pending ec2:{action}")
                return error_response("ec2", 400, "OperationNotPermitted",
                                      "Peering options can be added only to active peerings.")
        return None

    def emulate_after(self, schedule, service, action, params, data):
        """The forwarded answer, rewritten to show real timing."""
        if service == "ec2" and schedule.emulation("peering_pending"):
            polls = int(schedule.emulation("peering_pending").get("polls", 3))
            text = data.decode("utf-8", "replace")
            ids = re.findall(r"<vpcPeeringConnectionId>(pcx-[0-9a-z]+)</vpcPeeringConnectionId>", text)
            if action == "CreateVpcPeeringConnection" and ids:
                with schedule.lock:
                    schedule.peering_initiating[ids[0]] = polls
            elif action == "AcceptVpcPeeringConnection" and ids:
                with schedule.lock:
                    schedule.peering_provisioning[ids[0]] = polls
                text = re.sub(r"<code>active</code>", "<code>provisioning</code>", text)
            elif action == "DescribeVpcPeeringConnections" and len(set(ids)) == 1:
                pcx = ids[0]
                with schedule.lock:
                    for table, shown in ((schedule.peering_initiating, "initiating-request"),
                                         (schedule.peering_provisioning, "pending-acceptance")):
                        if table.get(pcx, 0) > 0:
                            table[pcx] -= 1
                            schedule.injected["peering_pending"] += 1
                            schedule.injected_actions[f"peering_pending ec2:{action}"] += 1
                            text = re.sub(r"<code>(active|pending-acceptance)</code>", f"<code>{shown}</code>", text)
                            break
            return text.encode()
        if service == "eks" and schedule.emulation("cluster_creating"):
            polls = int(schedule.emulation("cluster_creating").get("polls", 3))
            try:
                doc = json.loads(data or b"{}")
            except ValueError:
                return data
            cluster = doc.get("cluster") if isinstance(doc, dict) else None
            if not isinstance(cluster, dict):
                return data
            key = cluster.get("arn")
            with schedule.lock:
                if action == "CreateCluster":
                    schedule.cluster_creating[key] = polls
                    cluster["status"] = "CREATING"
                elif action == "DescribeCluster" and schedule.cluster_creating.get(key, 0) > 0:
                    schedule.cluster_creating[key] -= 1
                    schedule.injected["cluster_creating"] += 1
                    schedule.injected_actions[f"cluster_creating eks:{action}"] += 1
                    cluster["status"] = "CREATING"
                else:
                    return data
            return json.dumps(doc).encode()
        return data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    parser.add_argument("--schedule", help="initial schedule, as JSON")
    args = parser.parse_args()
    server = Proxy((args.host, args.port), args.target)
    if args.schedule:
        server.schedule = Schedule(json.loads(args.schedule))
    print(f"fault proxy on http://{args.host}:{server.server_address[1]} -> {args.target}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
