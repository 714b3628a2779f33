"""EC2 as strict as AWS, in front of moto 5.2.5: the EC2 half of the stand-in.

moto_fleet.FleetMiddleware hands every EC2 request (SigV4 credential scope
service "ec2") to `handle(environ, start_response, app)`. The request is
parsed (query protocol: `Action=...&Version=...` form body), may be refused
with an EC2 error answer (counted with `realism.injected`), is otherwise
forwarded to moto, and moto's XML answer may be rewritten. State lives in
moto's own EC2 backend objects (states, zones, failure codes are set on
them so every later moto answer shows them) plus small timetables here,
keyed by the ids moto hands out.

Behaviours (tools/realism.py names; each off with MOTO_FLEET_REALISM=all,-name):

    ec2-lag       new ids are NotFound for the first request naming them and
                  for realism.seconds(5); filtered Describe calls omit them
    durations     NAT pending 90 s / deleting 60 s; peering initiating-request
                  10 s, provisioning 20 s after accept
    zones         per-account AZ name->id mapping, opted-in Local Zones and a
                  Wavelength Zone in DescribeAvailabilityZones, Local Zone subnets
    failures      fail_next kinds nat-create / peering; overlapping-CIDR peering
    dependencies  DependencyViolation and friends moto does not enforce
    quotas        default VPC / EIP / IGW / NAT-per-AZ quotas
                  (raise with MOTO_FLEET_QUOTAS=vpcs=10,eips=20,igws=10,nat-per-az=10)

Test helpers (not behaviours): `leftovers(body)` creates what Kubernetes
leaves in a cluster's VPC; `fail_next(body)`; lost responses through
tools/lost_responses.py (`take("ec2", action)` -> forward, then drop the
connection).

Requests signed with an access key id starting with AKIAEKSFLEETOBSERVER
(the tests' own checks) see no lag.

When moto enforces IAM (INITIAL_NO_AUTH_ACTION_COUNT), a call the caller may
not make goes straight to moto, which refuses it: AWS checks permissions
before resources. Calls answered here still count toward that number.

Control endpoints (routed by moto_fleet's `# strict_ec2 hook` lines through
`control(environ, start_response)`):

    POST /moto-fleet/fail-next   {"kind": "nat-create"|"peering", "count"?, "region"?,
                                  "account"?, "code"?, "message"?}
    POST /moto-fleet/leftovers   {"region", "cluster_name", "kinds": [cni-eni, elb-sg,
                                  guardduty, lb-eni], "account"?} -> {"created": {kind: [ids]}}
"""
import hashlib
import io
import json
import os
import random
import re
import secrets
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode

import realism
from moto.core.responses import BaseResponse
from moto.ec2.models import ec2_backends
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend, Zone

try:
    import lost_responses
except ImportError:  # the EKS helper's module; absent until it lands
    lost_responses = None

LOCK = threading.RLock()
OBSERVER_PREFIX = "AKIAEKSFLEETOBSERVER"
SCOPE_RE = re.compile(r"Credential=([^/\s,]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


class Ec2Error(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def error_answer(code, message, status=400):
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
            f"<Message>{_esc(message)}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>")
    return f"{status} Bad Request", [("Content-Type", "text/xml")], body.encode()


def _esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ----- filters moto lacks ----------------------------------------------------------
# DescribeVpcEndpoints takes a `vpc-endpoint-id` filter
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpoints.html,
# "Filters"); moto raises FilterNotImplementedError for it and answers 500.
from moto.ec2.models.vpcs import VPCEndPoint  # noqa: E402

_endpoint_filter_value = VPCEndPoint.get_filter_value


def _vpc_endpoint_filter_value(self, filter_name, method_name=None):
    if filter_name == "vpc-endpoint-id":
        return self.id
    return _endpoint_filter_value(self, filter_name, method_name)


VPCEndPoint.get_filter_value = _vpc_endpoint_filter_value


# ----- the request -------------------------------------------------------------

class Request:
    def __init__(self, environ, app):
        self.environ, self.app = environ, app
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            self.raw = stream.read()
        else:
            self.raw = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        self._put_back(self.raw)
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if self.raw and "x-www-form-urlencoded" in (environ.get("CONTENT_TYPE") or "x-www-form-urlencoded"):
            pairs += parse_qsl(self.raw.decode("utf-8", "replace"), keep_blank_values=True)
        self.pairs = pairs
        self.p = dict(pairs)
        self.action = self.p.get("Action", "")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = SCOPE_RE.search(auth)
        # Region and account exactly as moto's BaseResponse derives them (see moto_fleet.Call).
        self.region = scope.group(2) if scope else "us-east-1"
        for text, rx in ((environ.get("HTTP_HOST", ""), BaseResponse.region_regex),
                         (environ.get("HTTP_USER_AGENT", ""), BaseResponse.region_from_useragent_regex)):
            m = rx.search(text)
            if m:
                self.region = m.group("region")
                break
        m = BaseResponse.access_key_regex.search(auth)
        self.access_key = m.group("access_key") if m else "AKIAEXAMPLE"
        if "MOTO_ACCOUNT_ID" in os.environ:
            self.account = os.environ["MOTO_ACCOUNT_ID"]
        elif environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            self.account = environ["HTTP_X_MOTO_ACCOUNT_ID"]
        else:
            from moto.iam.models import get_account_id_from
            self.account = get_account_id_from(self.access_key)
        self.observer = (scope.group(1) if scope else self.access_key).startswith(OBSERVER_PREFIX)
        self.backend = ec2_backends[self.account][self.region]

    def _put_back(self, raw):
        self.environ["wsgi.input"], self.environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))

    def set_params(self, pairs):
        """Replace the form body (signatures are not re-checked for EC2 by moto without IAM auth)."""
        self.pairs, self.p = pairs, dict(pairs)
        self.environ["QUERY_STRING"] = ""
        self.environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded; charset=utf-8"
        self.raw = urlencode(pairs).encode()
        self._put_back(self.raw)

    def values(self, prefix):
        """Values of a list parameter: prefix.1, prefix.2, ..."""
        return [v for k, v in self.pairs if re.fullmatch(re.escape(prefix) + r"\.\d+", k)]

    def filters(self):
        out = {}
        for k, name in self.pairs:
            m = re.fullmatch(r"Filter\.(\d+)\.Name", k)
            if m:
                out.setdefault(name, []).extend(self.values(f"Filter.{m.group(1)}.Value"))
        return out

    def moto(self):
        self.forwarded = True
        out, chunks = {}, []

        def start_response(status, headers, exc_info=None):
            out["status"], out["headers"] = status, headers
            return chunks.append
        result = self.app(self.environ, start_response)
        try:
            chunks.extend(result)
        finally:
            getattr(result, "close", lambda: None)()
        return out["status"], out["headers"], b"".join(chunks)


# ----- timetables ----------------------------------------------------------------
# Ids are random and unique, so one table per kind serves every account and region.

LAG = {}        # id -> {"code", "message", "created", "failed", "where"}
NATS = {}       # nat id -> {"created", "deleting", "deleted", "fail", "where"}
PEERINGS = {}   # pcx id -> {"created", "accepted", "fail", "where"}
RELEASES = {}   # allocation id -> ReleaseAddress attempts refused so far
FAIL_NEXT = []  # [{"kind", ...}]

# The NotFound code and AWS's message for each kind of new id.
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
NOT_FOUND = {
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
    "sg": ("InvalidGroup.NotFound", "The security group '{}' does not exist"),
    "igw": ("InvalidInternetGatewayID.NotFound", "The internetGateway ID '{}' does not exist"),
    "rtb": ("InvalidRouteTableID.NotFound", "The routeTable ID '{}' does not exist"),
    "eip": ("InvalidAllocationID.NotFound", "The allocation ID '{}' does not exist"),
    "nat": ("NatGatewayNotFound", "The Nat Gateway {} was not found"),
    "pcx": ("InvalidVpcPeeringConnectionID.NotFound", "The vpcPeeringConnection ID '{}' does not exist"),
}
CREATES = {  # action -> (kind, tag of the new id in moto's answer)
    "CreateVpc": ("vpc", "vpcId"),
    "CreateSubnet": ("subnet", "subnetId"),
    "CreateSecurityGroup": ("sg", "groupId"),
    "CreateInternetGateway": ("igw", "internetGatewayId"),
    "CreateRouteTable": ("rtb", "routeTableId"),
    "AllocateAddress": ("eip", "allocationId"),
    "CreateNatGateway": ("nat", "natGatewayId"),
    "CreateVpcPeeringConnection": ("pcx", "vpcPeeringConnectionId"),
}


def first_tag(body, tag):
    m = re.search(rf"<{tag}>([^<]+)</{tag}>", body.decode("utf-8", "replace"))
    return m.group(1) if m else None


# ----- ec2-lag ---------------------------------------------------------------------
# AWS: the EC2 API is eventually consistent; a resource just created may not be
# visible to the next calls yet, which then answer with its *.NotFound code
# (AWS's example: InvalidGroup.NotFound right after CreateSecurityGroup);
# Describe calls may not list it yet, and deletes may fail the same way.
# https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html

# The object's own id in each Describe answer (only that hides it, not a parent's id).
DESCRIBE_ID_TAG = {"DescribeVpcs": "vpcId", "DescribeSubnets": "subnetId", "DescribeSecurityGroups": "groupId",
                   "DescribeInternetGateways": "internetGatewayId", "DescribeRouteTables": "routeTableId",
                   "DescribeAddresses": "allocationId", "DescribeNatGateways": "natGatewayId",
                   "DescribeVpcPeeringConnections": "vpcPeeringConnectionId"}


def lag_window():
    return realism.seconds(5)


# The creator's first request naming a new id fails even after the
# compressed window (so the lag is met whatever the machine's load), for up
# to this many wall seconds. Deletes and releases are spared that rule: a
# destroy that follows a create meets only the window itself.
FIRST_USE_WINDOW = 30.0
# The calls that remove an object (ReleaseAddress removes an Elastic IP).
REMOVING_ACTIONS = ("Delete", "Release")


def lag_refusal(req, now):
    if not realism.on("ec2-lag") or req.observer:
        return None
    for key, value in req.pairs:
        if key.startswith("Filter.") or key in ("Action", "Version"):
            continue
        rec = LAG.get(value)
        if rec is None or rec["where"] != (req.account, req.region):
            continue
        age = now - rec["created"]
        if (rec["failed"] and age >= lag_window()) or age >= max(lag_window(), FIRST_USE_WINDOW):
            del LAG[value]
            continue
        # The guaranteed first-use failure exercises the creator's own path;
        # anyone else meets only the (compressed) window itself.
        if (rec.get("creator") != req.access_key or req.action.startswith(REMOVING_ACTIONS)) and age >= lag_window():
            continue
        rec["failed"] = True
        return Ec2Error(rec["code"], rec["message"])
    return None


def lagging_ids(req, now):
    return {i for i, rec in LAG.items()
            if rec["where"] == (req.account, req.region) and now - rec["created"] < lag_window()}


def hide_lagging(req, body, now):
    """Filtered Describe calls leave out objects still inside their lag window."""
    hidden = lagging_ids(req, now)
    if not hidden or b"<item>" not in body:
        return body
    m = re.search(rb'xmlns="([^"]+)"', body[:300])
    if m:  # keep moto's default namespace unprefixed
        ET.register_namespace("", m.group(1).decode())
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body
    tag = DESCRIBE_ID_TAG.get(req.action, "")
    removed = 0
    for container in list(root):
        for item in list(container):
            if any(child.tag.rsplit("}", 1)[-1] == tag and (child.text or "") in hidden for child in item):
                container.remove(item)
                removed += 1
    if not removed:
        return body
    realism.injected("ec2-lag", removed)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# ----- durations and failures: NAT gateways and peerings ------------------------------
# NAT: pending -> available | failed; deleting -> deleted; deleted ones stay
# listed for a while. https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html
# and https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NatGateway.html
# (FailureCode/FailureMessage, e.g. InsufficientFreeAddressesInSubnet).
# Peering lifecycle initiating-request -> pending-acceptance -> provisioning ->
# active, or failed (e.g. overlapping CIDR blocks):
# https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html#vpc-peering-lifecycle
# (overlapping CIDR blocks cannot be peered; the request ends `failed`, as
# hashicorp/terraform#9038 reports for the provider's waiter). The status
# message text below is ours: AWS does not document it verbatim.

NAT_FAILURE = ("InsufficientFreeAddressesInSubnet",
               "Subnet has insufficient free addresses to create this NAT gateway")
PEERING_FAILURE = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"


def nat_free(backend, nat):
    """What AWS does when a NAT gateway ends: its ENI goes and its EIP is unmapped."""
    eni = getattr(nat, "_eni", None)
    if eni is None or eni.id not in backend.enis:
        return
    for eip in backend.addresses:
        if eip.eni is eni:
            eip.eni, eip.instance, eip.association_id = None, None, None
    backend.enis.pop(eni.id, None)


# `durations`, in real seconds: a NAT gateway is pending about 90 s and
# deleting about 60 s; a peering is initiating-request ~10 s, then
# provisioning ~20 s after it is accepted (the bench reads these too).
NAT_PENDING, NAT_DELETING = 90, 60
PEERING_INITIATING, PEERING_PROVISIONING = 10, 20


def settle(now):
    for nat_id, rec in list(NATS.items()):
        backend = ec2_backends[rec["where"][0]][rec["where"][1]]
        nat = backend.nat_gateways.get(nat_id)
        if nat is None:
            del NATS[nat_id]
            continue
        if rec["deleting"] is not None:
            if not realism.on("durations") or now - rec["deleting"] >= realism.seconds(NAT_DELETING):
                nat.state = "deleted"
                rec["deleted"] = rec["deleted"] or now
            else:
                nat.state = "deleting"
        elif realism.on("durations") and now - rec["created"] < realism.seconds(NAT_PENDING):
            nat.state = "pending"
        elif rec["fail"]:
            nat.state = "failed"
            nat.failure_code, nat.failure_message = rec["fail"]
        elif nat.state == "pending":
            nat.state = "available"
        if nat.state in ("deleted", "failed") and (realism.on("durations") or realism.on("dependencies")):
            nat_free(backend, nat)  # moto keeps both; with `none`, moto's behaviour stays
    if not realism.on("durations") and not realism.on("failures"):
        return
    for pcx_id, rec in list(PEERINGS.items()):
        backend = ec2_backends[rec["where"][0]][rec["where"][1]]
        pcx = backend.vpc_pcxs.get(pcx_id)
        if pcx is None:
            del PEERINGS[pcx_id]
            continue
        status = pcx._status
        if status.code in ("deleted", "rejected", "failed", "deleting"):
            continue
        durations = realism.on("durations")
        if rec["accepted"] is None:
            if durations and now - rec["created"] < realism.seconds(PEERING_INITIATING):
                status.code, status.message = "initiating-request", f"Initiating Request to {status.accepter_id}"
            elif rec["fail"]:
                status.code, status.message = "failed", rec["fail"]
            elif status.code == "initiating-request":
                status.pending()
        elif durations and now - rec["accepted"] < realism.seconds(PEERING_PROVISIONING):
            status.code, status.message = "provisioning", "Provisioning"
        elif status.code == "provisioning":
            status.accept()


def overlapping(pcx):
    import ipaddress
    mine = [ipaddress.ip_network(a["cidr_block"]) for a in pcx.vpc.get_cidr_block_association_set()]
    theirs = [ipaddress.ip_network(a["cidr_block"]) for a in pcx.peer_vpc.get_cidr_block_association_set()]
    return any(a.overlaps(b) for a in mine for b in theirs)


def take_fail_next(prefix, req):
    for i, item in enumerate(FAIL_NEXT):
        if item["kind"].startswith(prefix) and item["region"] in (None, req.region) \
                and item["account"] in (None, req.account):
            item["count"] -= 1
            if item["count"] <= 0:
                FAIL_NEXT.pop(i)
            return item
    return None


def fail_next(body):
    """POST /moto-fleet/fail-next for EC2 kinds: `nat-create` (optional code,
    message) and `peering` (optional message); `count` (default 1); optional
    `region` and `account` limit it to requests there."""
    kind = body.get("kind", "")
    if kind not in ("nat-create", "peering"):
        raise ValueError(f"unknown EC2 fail-next kind {kind!r}; known: nat-create, peering")
    item = {"kind": kind, "count": int(body.get("count", 1)), "region": body.get("region"),
            "account": body.get("account")}
    if kind == "nat-create":
        item["fail"] = (body.get("code") or NAT_FAILURE[0], body.get("message") or NAT_FAILURE[1])
    else:
        item["fail"] = body.get("message") or PEERING_FAILURE
    with LOCK:
        FAIL_NEXT.append(item)
    return {"armed": item["kind"], "count": item["count"]}


# ----- zones ---------------------------------------------------------------------------
# DescribeAvailabilityZones returns "the Availability Zones, Local Zones, and
# Wavelength Zones that are available to you", opted-in ones included unless
# AllAvailabilityZones or filters say otherwise:
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html
# Zone names map to zone ids differently in every account:
# https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html

# Zone ids AWS has in a region that moto's table lacks (old/limited zones some accounts get).
EXTRA_ZONE_IDS = {"us-west-1": ["usw1-az2"], "ca-central-1": ["cac1-az3"]}
# (name, id, type, opt-in status, parent zone name, group, network border group)
EXTRA_ZONES = {
    "us-west-2": [
        ("us-west-2-lax-1a", "usw2-lax1-az1", "local-zone", "opted-in", "us-west-2a", "us-west-2-lax-1", "us-west-2-lax-1"),
        ("us-west-2-lax-1b", "usw2-lax1-az2", "local-zone", "opted-in", "us-west-2a", "us-west-2-lax-1", "us-west-2-lax-1"),
        ("us-west-2-den-1a", "usw2-den1-az1", "local-zone", "not-opted-in", "us-west-2a", "us-west-2-den-1", "us-west-2-den-1"),
    ],
    "us-east-1": [
        ("us-east-1-bos-1a", "use1-bos1-az1", "local-zone", "opted-in", "us-east-1a", "us-east-1-bos-1", "us-east-1-bos-1"),
        ("us-east-1-wl1-bos-wlz-1", "use1-wl1-bos-wlz1", "wavelength-zone", "opted-in", "us-east-1a",
         "us-east-1-wl1", "us-east-1-wl1-bos-wlz-1"),
    ],
}
# Zone ids EKS refuses for cluster subnets: the default account must meet them
# among the first three names, so the provider's zone choice is tested.
MUST_SEE = {("123456789012", "us-east-1"): "use1-az3", ("123456789012", "us-west-1"): "usw1-az2"}


def zone_map(account, region):
    """{zone name: zone id} for the region's ordinary zones, per account."""
    names = sorted(z.name for z in RegionsAndZonesBackend.zones.get(region, []))
    pool = sorted({z.zone_id for z in RegionsAndZonesBackend.zones.get(region, [])}
                  | set(EXTRA_ZONE_IDS.get(region, [])))
    rng = random.Random(hashlib.sha256(f"{account}/{region}".encode()).digest())
    rng.shuffle(pool)
    ids = pool[:len(names)]
    must = MUST_SEE.get((account, region))
    if must and must not in ids[:3] and names:
        slot = rng.randrange(min(3, len(names)))
        if must in pool[len(names):]:
            ids[slot] = must
        else:
            j = ids.index(must)
            ids[slot], ids[j] = ids[j], ids[slot]
    return dict(zip(names, ids))


def all_zones(account, region):
    """Every zone of the region as dicts in the DescribeAvailabilityZones shape."""
    mapping = zone_map(account, region)
    out = [{"zoneName": n, "zoneId": i, "zoneType": "availability-zone", "optInStatus": "opt-in-not-required",
            "groupName": region, "networkBorderGroup": region, "regionName": region, "zoneState": "available"}
           for n, i in mapping.items()]
    for name, zid, ztype, opt, parent, group, border in EXTRA_ZONES.get(region, []):
        out.append({"zoneName": name, "zoneId": zid, "zoneType": ztype, "optInStatus": opt,
                    "groupName": group, "networkBorderGroup": border, "regionName": region,
                    "zoneState": "available", "parentZoneName": parent, "parentZoneId": mapping.get(parent)})
    return out


def describe_zones(req):
    zones = all_zones(req.account, req.region)
    if req.p.get("AllAvailabilityZones", "false").lower() != "true":
        zones = [z for z in zones if z["optInStatus"] != "not-opted-in"]
    names, ids = req.values("ZoneName"), req.values("ZoneId")
    if names:
        zones = [z for z in zones if z["zoneName"] in names]
    if ids:
        zones = [z for z in zones if z["zoneId"] in ids]
    keys = {"zone-type": "zoneType", "opt-in-status": "optInStatus", "zone-id": "zoneId",
            "zone-name": "zoneName", "region-name": "regionName", "state": "zoneState",
            "group-name": "groupName", "network-border-group": "networkBorderGroup",
            "parent-zone-name": "parentZoneName", "parent-zone-id": "parentZoneId"}
    for name, values in req.filters().items():
        if name in keys:
            zones = [z for z in zones if z.get(keys[name]) in values]
    if any(z["zoneType"] != "availability-zone" for z in zones):
        realism.injected("zones")
    items = "".join(
        "<item>" + "".join(f"<{k}>{_esc(v)}</{k}>" for k, v in z.items() if v is not None)
        + "<messageSet/></item>" for z in zones)
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeAvailabilityZonesResponse xmlns=\"{EC2_NS}\">"
            f"<requestId>{uuid.uuid4()}</requestId><availabilityZoneInfo>{items}</availabilityZoneInfo>"
            "</DescribeAvailabilityZonesResponse>")
    return "200 OK", [("Content-Type", "text/xml")], body.encode()


def zone_of(account, region, name=None, zone_id=None):
    for z in all_zones(account, region):
        if (name and z["zoneName"] == name) or (zone_id and z["zoneId"] == zone_id):
            return z
    return None


def patch_subnet(backend, subnet, zone):
    """Give moto's Subnet the account's zone id (and zone type) so every answer
    and every reader of subnet.availability_zone_id sees it."""
    subnet._availability_zone = Zone(name=zone["zoneName"], region_name=zone["regionName"],
                                     zone_id=zone["zoneId"], zone_type=zone["zoneType"])
    subnet._fleet_zone_type = zone["zoneType"]


def patch_subnets(req):
    if not realism.on("zones"):
        return
    for subnets in list(req.backend.subnets.values()):
        for subnet in list(subnets.values()):
            if getattr(subnet, "_fleet_zone_type", None) is None:
                zone = zone_of(req.account, req.region, name=subnet.availability_zone)
                if zone:
                    patch_subnet(req.backend, subnet, zone)


def create_subnet_before(req):
    """Translate AvailabilityZoneId / Local Zone names for moto; returns the zone or None."""
    if not realism.on("zones"):
        return None
    name, zid = req.p.get("AvailabilityZone"), req.p.get("AvailabilityZoneId")
    if not name and not zid:
        return None
    zone = zone_of(req.account, req.region, name=name, zone_id=zid)
    if zone is None:
        raise Ec2Error("InvalidParameterValue",
                       f"Value ({name or zid}) for parameter availabilityZone is invalid. "
                       f"Subnets can currently only be created in the following availability zones: "
                       + ", ".join(z["zoneName"] for z in all_zones(req.account, req.region)
                                   if z["optInStatus"] != "not-opted-in") + ".")
    if zone["optInStatus"] == "not-opted-in":
        raise Ec2Error("OptInRequired", f"You must opt in to {zone['groupName']} before using it.")
    moto_name = zone.get("parentZoneName") or zone["zoneName"]
    pairs = [(k, v) for k, v in req.pairs if k not in ("AvailabilityZone", "AvailabilityZoneId")]
    req.set_params(pairs + [("AvailabilityZone", moto_name)])
    return zone


def create_subnet_after(req, body, zone):
    subnet_id = first_tag(body, "subnetId")
    if not zone or not subnet_id:
        return body
    subnet = req.backend.get_subnet(subnet_id)
    patch_subnet(req.backend, subnet, zone)
    if zone["zoneType"] != "availability-zone":
        realism.injected("zones")
    text = body.decode()
    text = re.sub(r"<availabilityZone>[^<]*</availabilityZone>", f"<availabilityZone>{zone['zoneName']}</availabilityZone>", text, 1)
    text = re.sub(r"<availabilityZoneId>[^<]*</availabilityZoneId>", f"<availabilityZoneId>{zone['zoneId']}</availabilityZoneId>", text, 1)
    return text.encode()


# ----- quotas ----------------------------------------------------------------------------
# Default quotas per Region: 5 VPCs (the default VPC counts), 5 internet
# gateways (one per VPC; the default VPC's counts), 5 Elastic IPs, 5 NAT
# gateways per Availability Zone (pending, active and deleting ones count):
# https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit

QUOTA_DEFAULTS = {"vpcs": 5, "eips": 5, "igws": 5, "nat-per-az": 5}


def quotas():
    q = dict(QUOTA_DEFAULTS)
    for word in (os.environ.get("MOTO_FLEET_QUOTAS") or "").split(","):
        if "=" in word:
            k, v = word.split("=", 1)
            if k.strip() not in q:
                raise SystemExit(f"MOTO_FLEET_QUOTAS: unknown quota {k!r}; known: " + ", ".join(q))
            q[k.strip()] = int(v)
    return q


def quota_refusal(req):
    if not realism.on("quotas"):
        return None
    q, b = quotas(), req.backend
    if req.action == "CreateVpc" and len(b.vpcs) >= q["vpcs"]:
        return Ec2Error("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
    if req.action == "AllocateAddress" and len(b.addresses) >= q["eips"]:
        return Ec2Error("AddressLimitExceeded", "The maximum number of addresses has been reached.")
    if req.action == "CreateInternetGateway":
        count = len(b.internet_gateways)
        default = getattr(b, "default_vpc", None)
        # moto's default VPC has no internet gateway; AWS's has one, and it counts.
        if default is not None and default.id in b.vpcs and not any(
                igw.vpc is not None and igw.vpc.id == default.id for igw in b.internet_gateways.values()):
            count += 1
        if count >= q["igws"]:
            return Ec2Error("InternetGatewayLimitExceeded", "The maximum number of internet gateways has been reached.")
    if req.action == "CreateNatGateway":
        try:
            zone = b.get_subnet(req.p.get("SubnetId", "")).availability_zone
        except Exception:
            return None
        live = 0
        for nat in b.nat_gateways.values():
            if nat.state in ("pending", "available", "deleting"):
                try:
                    live += b.get_subnet(nat.subnet_id).availability_zone == zone
                except Exception:
                    pass
        if live >= q["nat-per-az"]:
            return Ec2Error("NatGatewayLimitExceeded",
                            "The maximum number of NAT gateways in this Availability Zone has been reached.")
    return None


# ----- dependencies ------------------------------------------------------------------------
# DeleteSubnet/DeleteVpc/DeleteSecurityGroup refuse with DependencyViolation
# while something still uses them:
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnet.html ("You must
# terminate all running instances in the subnet before you can delete the subnet"),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html ("you must
# detach or delete all gateways and resources that are associated with the VPC"),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html
# ("If you attempt to delete a security group that is associated with an instance
# or network interface, or is referenced by another security group ... DependencyViolation"),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachInternetGateway.html
# ("The VPC must not contain any running instances with Elastic IP addresses or public IPv4 addresses"),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReleaseAddress.html
# ("[EC2-VPC] ... you must first disassociate it ... AuthFailure ... InvalidIPAddress.InUse").

def enis_in_vpc(b, vpc_id):
    return [e for e in b.enis.values() if e.subnet is not None and e.subnet.vpc_id == vpc_id]


def all_groups(b):
    return [g for groups in b.groups.values() for g in groups.values()]


def dependency_refusal(req, now):
    if not realism.on("dependencies"):
        return None
    b, a, p = req.backend, req.action, req.p
    if a == "DeleteSubnet":
        sid = p.get("SubnetId")
        if any(e.subnet is not None and e.subnet.id == sid for e in b.enis.values()):
            return Ec2Error("DependencyViolation", f"The subnet '{sid}' has dependencies and cannot be deleted.")
    if a == "DeleteSecurityGroup" and p.get("GroupId"):
        gid = p["GroupId"]
        referenced = any(
            g.id != gid and any((r.source_group or {}).get("GroupId") == gid for r in g.ingress_rules + g.egress_rules)
            for g in all_groups(b))
        attached = any(any(getattr(g, "id", g) == gid for g in e._group_set) for e in b.enis.values())
        if referenced or attached:
            return Ec2Error("DependencyViolation", f"resource {gid} has a dependent object")
    if a == "DeleteVpc":
        vid = p.get("VpcId")
        busy = (any(s.vpc_id == vid for subnets in b.subnets.values() for s in subnets.values())
                or any(g.name != "default" for g in b.groups.get(vid, {}).values())
                or any(igw.vpc is not None and igw.vpc.id == vid for igw in b.internet_gateways.values())
                or any(rt.vpc_id == vid and not rt.main_association_id for rt in b.route_tables.values())
                or any(ep.vpc_id == vid and ep.state != "deleted" for ep in b.vpc_end_points.values()))
        if busy:
            return Ec2Error("DependencyViolation", f"The vpc '{vid}' has dependencies and cannot be deleted.")
    if a == "DetachInternetGateway":
        vid = p.get("VpcId")
        vpc_enis = {e.id for e in enis_in_vpc(b, vid)}
        mapped = any((eip.eni is not None and eip.eni.id in vpc_enis)
                     or (eip.instance is not None and getattr(eip.instance, "vpc_id", None) == vid)
                     for eip in b.addresses)
        if mapped:
            return Ec2Error("DependencyViolation",
                            f"Network {vid} has some mapped public address(es). "
                            "Please unmap those public address(es) before detaching the gateway.")
    if a == "ReleaseAddress" and p.get("AllocationId"):
        alloc = p["AllocationId"]
        for nat_id, rec in NATS.items():
            nat = ec2_backends[rec["where"][0]][rec["where"][1]].nat_gateways.get(nat_id)
            if nat is None or alloc not in [s.get("allocationId") for s in nat.address_set]:
                continue
            recent = rec["deleted"] is not None and now - rec["deleted"] < realism.seconds(120)
            if nat.state in ("pending", "available", "deleting") or recent:
                tries = RELEASES.setdefault(alloc, 0)
                RELEASES[alloc] = tries + 1
                if tries % 2 == 0:
                    return Ec2Error("AuthFailure", "You do not have permission to access the specified resource.")
                return Ec2Error("InvalidIPAddress.InUse", f"Address {alloc} is in use.")
    if a == "DeleteNetworkInterface":
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteNetworkInterface.html
        # ("You must detach the network interface before you can delete it.")
        eni = b.enis.get(p.get("NetworkInterfaceId", ""))
        if eni is not None and eni.status == "in-use":
            return Ec2Error("InvalidNetworkInterface.InUse", f"The network interface '{eni.id}' is currently in use.")
    if a == "DeleteVpcPeeringConnection":
        pcx = b.vpc_pcxs.get(p.get("VpcPeeringConnectionId", ""))
        if pcx is not None and pcx._status.code == "failed":
            return Ec2Error("InvalidStateTransition",
                            f"Invalid state transition for {pcx.id}, attempted to transition from failed to deleting")
    return None


def state_refusal(req):
    """Operations AWS refuses in a transitional state (durations)."""
    if not realism.on("durations"):
        return None
    if req.action == "ModifyVpcPeeringConnectionOptions":
        pcx = req.backend.vpc_pcxs.get(req.p.get("VpcPeeringConnectionId", ""))
        if pcx is not None and pcx._status.code != "active":
            # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVpcPeeringConnectionOptions.html
            return Ec2Error("OperationNotPermitted", "Peering options can be added only to active peerings.")
    return None


# ----- the handler -----------------------------------------------------------------------

def _answer(start_response, result):
    status, headers, body = result
    headers = [h for h in headers if h[0].lower() != "content-length"] + [("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def handle(environ, start_response, app):
    with LOCK:
        try:
            req = Request(environ, app)
        except KeyError:  # a region moto has no EC2 backend for
            return app(environ, start_response)
        now = time.time()
        settle(now)
        patch_subnets(req)
        try:
            result = process(req, now)
        except Ec2Error as err:
            result = error_answer(err.code, err.message, err.status)
        if not getattr(req, "forwarded", False):
            count_for_moto_auth()
        lost = (lost_responses is not None and result[0].startswith("2")
                and lost_responses.take("ec2", req.action))
    if lost:
        dropped = lost_responses.drop_connection(environ)
        return dropped if dropped is not None else []
    return _answer(start_response, result)


def refuse(behaviour, err):
    """Raise a refusal, counted for its behaviour."""
    if err is not None:
        realism.injected(behaviour)
        raise err


def count_for_moto_auth():
    """A request answered here still counts toward INITIAL_NO_AUTH_ACTION_COUNT, as moto counts its own."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1


def iam_denies(req):
    """True when moto enforces IAM and would refuse this call: AWS checks
    permissions before it looks at the resources, so moto answers it then."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequest
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        return False
    headers = {k[5:].replace("_", "-").title(): v for k, v in req.environ.items() if k.startswith("HTTP_")}
    try:
        IAMRequest(account_id=req.account, method=req.environ["REQUEST_METHOD"], path="/",
                   data={k: [v] for k, v in req.p.items()}, body=req.raw, headers=headers,
                   action=req.action).check_action_permitted("*")
    except Exception:  # access denied, unknown key, ...: moto's own answer says which
        return True
    return False


# ----- idempotency -----------------------------------------------------------------------
# A create repeated with the same ClientToken (the SDK resends it when the
# answer was lost) returns the first request's result and makes nothing; the
# same token with other parameters is IdempotentParameterMismatch:
# https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
# moto ignores the token and creates a second object (a second NAT gateway on
# the same address fails Resource.AlreadyAssociated).
IDEMPOTENT = {}  # (account, region, action, token) -> (other parameters, result)


def idempotent_key(req):
    token = req.p.get("ClientToken")
    return (req.account, req.region, req.action, token) if token else None


def idempotent_replay(req):
    key = idempotent_key(req)
    if key is None or key not in IDEMPOTENT:
        return None
    params, result = IDEMPOTENT[key]
    if params != idempotent_params(req):
        raise Ec2Error("IdempotentParameterMismatch",
                       f"The client token {key[3]} was used before with other parameters.")
    return result


def idempotent_params(req):
    return sorted((k, v) for k, v in req.pairs if k != "ClientToken")


def process(req, now):
    a = req.action
    if iam_denies(req):
        return req.moto()
    replay = idempotent_replay(req)
    if replay is not None:
        return replay
    result = process_once(req, now)
    key = idempotent_key(req)
    if key is not None and result[0].startswith("2"):
        IDEMPOTENT[key] = (idempotent_params(req), result)
    return result


def process_once(req, now):
    a = req.action
    refuse("ec2-lag", lag_refusal(req, now))
    if a == "DescribeAvailabilityZones" and realism.on("zones"):
        answer = req.moto()  # moto decides authorization (IAM enforcement); the zones are ours
        return answer if not answer[0].startswith("2") else describe_zones(req)
    refuse("quotas", quota_refusal(req))
    refuse("dependencies", dependency_refusal(req, now))
    refuse("durations", state_refusal(req))
    zone = create_subnet_before(req) if a == "CreateSubnet" else None
    status, headers, body = req.moto()
    if not status.startswith("2"):
        return status, headers, body
    if a in CREATES:
        kind, tag = CREATES[a]
        new_id = first_tag(body, tag)
        if new_id and realism.on("ec2-lag"):
            code, message = NOT_FOUND[kind]
            LAG[new_id] = {"code": code, "message": message.format(new_id), "created": now,
                           "failed": False, "where": (req.account, req.region), "creator": req.access_key}
        if a == "CreateNatGateway" and new_id:
            body = after_create_nat(req, body, new_id, now)
        if a == "CreateVpcPeeringConnection" and new_id:
            body = after_create_peering(req, body, new_id, now)
    if a == "DeleteNatGateway":
        # moto marks it deleted at once (and keeps its interface and address);
        # settle() shows `deleting` for 60 s (durations), then frees both.
        nat = req.backend.nat_gateways.get(req.p.get("NatGatewayId", ""))
        if nat is not None:
            rec = NATS.setdefault(nat.id, {"created": 0, "deleting": None, "deleted": None, "fail": None,
                                           "where": (req.account, req.region)})
            rec["deleting"] = rec["deleting"] or now
            settle(now)
            if realism.on("durations") and nat.state == "deleting":
                realism.injected("durations")
    if a == "AcceptVpcPeeringConnection":
        pcx_id = req.p.get("VpcPeeringConnectionId", "")
        rec = PEERINGS.get(pcx_id)
        if rec is not None and realism.on("durations"):
            rec["accepted"] = now
            settle(now)
            realism.injected("durations")
            body = re.sub(rb"<code>active</code>\s*<message>[^<]*</message>",
                          b"<code>provisioning</code><message>Provisioning</message>", body)
            body = body.replace(b"<code>active</code>", b"<code>provisioning</code>")
    if a == "CreateSubnet":
        body = create_subnet_after(req, body, zone)
        patch_subnets(req)
    if a in DESCRIBE_ID_TAG and any(k.startswith("Filter.") for k, _ in req.pairs) and realism.on("ec2-lag") \
            and not req.observer:
        body = hide_lagging(req, body, now)
    return status, headers, body


def after_create_nat(req, body, nat_id, now):
    nat = req.backend.nat_gateways.get(nat_id)
    rec = {"created": now, "deleting": None, "deleted": None, "fail": None, "where": (req.account, req.region)}
    if realism.on("failures"):
        item = take_fail_next("nat", req)
        if item:
            rec["fail"] = item["fail"]
            realism.injected("failures")
    NATS[nat_id] = rec
    settle(now)
    if realism.on("durations"):
        realism.injected("durations")
    return re.sub(rb"<state>[a-z]+</state>", f"<state>{nat.state}</state>".encode(), body, count=1)


def after_create_peering(req, body, pcx_id, now):
    pcx = req.backend.vpc_pcxs.get(pcx_id)
    rec = {"created": now, "accepted": None, "fail": None, "where": (req.account, req.region)}
    if realism.on("failures"):
        item = take_fail_next("peering", req)
        if item:
            rec["fail"] = item["fail"]
            realism.injected("failures")
        elif overlapping(pcx):
            # AWS: a peering between VPCs with overlapping CIDR blocks ends failed.
            rec["fail"] = PEERING_FAILURE
            realism.injected("failures")
    PEERINGS[pcx_id] = rec
    settle(now)
    st = pcx._status
    return re.sub(rb"<status>.*?</status>",
                  f"<status><code>{st.code}</code><message>{_esc(st.message)}</message></status>".encode(),
                  body, count=1, flags=re.S)


# ----- leftovers Kubernetes makes (test helper) -----------------------------------------

LEFTOVER_KINDS = ("cni-eni", "elb-sg", "guardduty", "lb-eni")


def leftovers(body):
    """POST /moto-fleet/leftovers {"region", "cluster_name", "kinds", "account"?}:
    create in the cluster's VPC what Kubernetes and GuardDuty leave behind."""
    from moto.eks.models import eks_backends
    region, name = body["region"], body["cluster_name"]
    account = body.get("account") or os.environ.get("MOTO_ACCOUNT_ID") or "123456789012"
    kinds = body.get("kinds") or list(LEFTOVER_KINDS)
    unknown = [k for k in kinds if k not in LEFTOVER_KINDS]
    if unknown:
        raise ValueError(f"unknown leftover kinds {unknown}; known: {', '.join(LEFTOVER_KINDS)}")
    with LOCK:
        cluster = eks_backends[account][region].clusters.get(name)
        if cluster is None:
            raise ValueError(f"no EKS cluster {name!r} in {account}/{region}")
        b = ec2_backends[account][region]
        vpc_config = cluster.resources_vpc_config or {}
        subnets = [b.get_subnet(s) for s in vpc_config.get("subnetIds") or []]
        if not subnets:
            raise ValueError(f"cluster {name!r} has no subnets")
        vpc_id = subnets[0].vpc_id
        private = [s for s in subnets if not public_subnet(b, s)] or subnets
        cluster_sg = vpc_config.get("clusterSecurityGroupId") or next(iter(vpc_config.get("securityGroupIds") or []), None)
        created = {}
        for kind in kinds:
            hexid = secrets.token_hex(8)
            if kind == "cni-eni":
                eni = b.create_network_interface(private[0], None, description=f"aws-K8S-eni-{hexid}",
                                                 tags={"cluster.k8s.amazonaws.com/name": name})
                eni.status = "available"
                created[kind] = [eni.id]
            elif kind == "elb-sg":
                sg = b.create_security_group(f"k8s-elb-{hexid}", f"Security group for Kubernetes ELB {hexid}",
                                             vpc_id=vpc_id, tags={f"kubernetes.io/cluster/{name}": "owned"})
                if cluster_sg is None:
                    cluster_sg = ensure_cluster_sg(b, cluster, vpc_id)
                b.authorize_security_group_ingress(cluster_sg, "-1", None, None, [],
                                                   source_groups=[{"GroupId": sg.id}], vpc_id=vpc_id)
                created[kind] = [sg.id]
            elif kind == "guardduty":
                sg = b.create_security_group(f"GuardDutyManagedSecurityGroup-{vpc_id}",
                                             "Associated with VPC Endpoint managed by GuardDuty", vpc_id=vpc_id,
                                             tags={"GuardDutyManaged": "true"})
                ep = b.create_vpc_endpoint(vpc_id, f"com.amazonaws.{region}.guardduty-data", "Interface", None, [],
                                           subnet_ids=[private[0].id], security_group_ids=[sg.id],
                                           tags={"GuardDutyManaged": "true"}, private_dns_enabled=True)
                for eni_id in ep.network_interface_ids:
                    eni = b.enis.get(eni_id)
                    if eni is not None:
                        eni._group_set.append(sg)  # the endpoint's interfaces use the managed group
                        eni.description = f"VPC Endpoint Interface {ep.id}"
                        eni.interface_type = "vpc_endpoint"
                        eni.status = "in-use"
                created[kind] = [ep.id, sg.id]
            elif kind == "lb-eni":
                lb = f"k8s-default-{hexid[:10]}"
                eni = b.create_network_interface(subnets[0], None, description=f"ELB net/{lb}/{hexid}")
                eni.interface_type = "network_load_balancer"
                eni.status = "in-use"
                eni.requester_managed = True
                eni.requester_id = "amazon-elb"
                created[kind] = [eni.id]
        return {"created": created}


def public_subnet(b, subnet):
    for rt in b.route_tables.values():
        if subnet.id in rt._associations.values():
            return any(r.gateway is not None and str(getattr(r.gateway, "id", "")).startswith("igw-")
                       for r in rt._routes.values())
    return False


def ensure_cluster_sg(b, cluster, vpc_id):
    sg = b.create_security_group(f"eks-cluster-sg-{cluster.name}-{secrets.token_hex(4)}",
                                 "EKS created security group", vpc_id=vpc_id,
                                 tags={f"kubernetes.io/cluster/{cluster.name}": "owned"})
    cfg = dict(cluster.resources_vpc_config or {})
    cfg["clusterSecurityGroupId"] = sg.id
    cluster.resources_vpc_config = cfg
    return sg.id


# ----- control endpoints (called from moto_fleet's hook) ------------------------------------

def control(environ, start_response):
    """POST /moto-fleet/leftovers and POST /moto-fleet/fail-next (EC2 kinds).
    Returns None when the request is not one of these."""
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") != "POST" or path not in ("/moto-fleet/leftovers", "/moto-fleet/fail-next"):
        return None
    stream = environ["wsgi.input"]
    raw = stream.read() if environ.get("wsgi.input_terminated") else stream.read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = {}
    if path == "/moto-fleet/fail-next" and not str(body.get("kind", "")).startswith(("nat", "peering")):
        return None
    try:
        result = leftovers(body) if path == "/moto-fleet/leftovers" else fail_next(body)
        status = "200 OK"
    except (ValueError, KeyError) as err:
        result, status = {"error": str(err)}, "400 Bad Request"
    except Exception as err:  # a bug here: say what it was
        import traceback
        result, status = {"error": repr(err), "traceback": traceback.format_exc()}, "500 Internal Server Error"
    return _answer(start_response, (status, [("Content-Type", "application/json")], json.dumps(result).encode()))
