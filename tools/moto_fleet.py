#!/usr/bin/env python3
"""`moto_server`, plus the EKS operations moto 5.2.5 lacks.

    python tools/moto_fleet.py -H 127.0.0.1 -p 5000

Serves exactly what `moto_server` serves (every service on one port,
`/moto-api/` included, moto's environment settings such as
MOTO_IAM_LOAD_MANAGED_POLICIES honoured because moto runs in this process),
with a WSGI middleware in front that answers, for EKS requests only (SigV4
credential scope service "eks"):

  * operations moto 5.2.5 does not have: add-ons (Create/Describe/List/Update/
    DeleteAddon, DescribeAddonVersions), access entries and access policies,
    UpdateClusterVersion, UpdateNodegroupVersion, DescribeUpdate, ListUpdates,
    and TagResource/UntagResource/ListTagsForResource on node group, Fargate
    profile, add-on and access entry ARNs (moto tags clusters only);
  * operations moto has but answers unlike EKS: UpdateClusterConfig (moto
    returns no `update`, replaces resourcesVpcConfig wholesale and ignores
    accessConfig) is implemented here; CreateCluster, CreateNodegroup,
    UpdateNodegroupConfig and DeleteCluster go to moto and are touched up
    afterwards (see the handlers).

Extension state lives on moto's own EKS Cluster objects (attribute `_fleet`),
so it is per account and region exactly like moto's, disappears with
DeleteCluster and is wiped by POST /moto-api/reset.

IAM authorization (INITIAL_NO_AUTH_ACTION_COUNT, POST /moto-api/reset-auth):
moto 5.2.5 rejects every correctly signed EKS request with
SignatureDoesNotMatch once it enforces IAM, so for EKS this middleware does
the check itself, with moto's own policy evaluation: the caller's policies
must allow `eks:<Operation>` or the answer is EKS's 403
AccessDeniedException. moto also recomputes query-protocol signatures (EC2,
IAM) from the form it re-encodes with Python's rules, not from the bytes
sent, so requests from SDKs that percent-encode differently (the Rust SDK,
for JSON policy documents) fail as SignatureDoesNotMatch. Signatures are
therefore not verified here; the access key must still exist and the
caller's policies must allow the action: permissions are what is tested.

MOTO_FLEET_DELAY_SECONDS (default 0): how long clusters and node groups stay
CREATING, updates InProgress and add-ons CREATING/UPDATING/DELETING. With 0
everything settles at once (moto's style); with a delay, pending changes are
applied by the first EKS request after it has passed, which lets waiters be
exercised.
"""
import argparse
import io
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from functools import cached_property
from http import HTTPStatus
from urllib.parse import parse_qs, unquote

from werkzeug.serving import run_simple

from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError
from moto.core.responses import BaseResponse
from moto.eks.responses import EKSResponse
from moto.iam.access_control import IAMRequest
from moto.eks import models as eks_models
from moto.eks.models import eks_backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.utilities.utils import get_partition

try:  # strict_ec2 hook
    import strict_ec2  # strict_ec2 hook
except ImportError:  # strict_ec2 hook
    strict_ec2 = None  # strict_ec2 hook

DELAY = float(os.environ.get("MOTO_FLEET_DELAY_SECONDS") or 0)
# moto's server is threaded; one lock keeps our read-modify-write steps and
# moto's EKS handlers from interleaving. EKS traffic in tests is light.
LOCK = threading.RLock()
SCOPE_RE = re.compile(r"Credential=([^/\s,]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

AUTH_MODES = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]  # one-way, in this order
NOT_API_MODE = ("The cluster's authentication mode must be set to one of "
                "[API, API_AND_CONFIG_MAP] to perform this operation.")
ENTRY_TYPES = ["STANDARD", "FARGATE_LINUX", "EC2_LINUX", "EC2_WINDOWS", "EC2",
               "HYBRID_LINUX", "HYPERPOD_LINUX"]
PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):(role|user)/(?:.+/)?([^/]+)$")
POLICY_RE = re.compile(r"^arn:aws[a-z-]*:eks::aws:cluster-access-policy/[A-Za-z0-9]+$")
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
ADDON_VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
K8S_VERSIONS = [f"1.{m}" for m in range(23, 34)]
# DescribeAddonVersions catalogue: name -> (type, versions, newest first; the
# first is the default). kube-proxy follows the cluster's minor version.
ADDONS = {
    "vpc-cni": ("networking", ["v1.19.0-eksbuild.1", "v1.18.6-eksbuild.1"]),
    "coredns": ("networking", ["v1.11.3-eksbuild.2", "v1.11.1-eksbuild.9"]),
    "kube-proxy": ("networking", [f"v{v}.0-eksbuild.1" for v in reversed(K8S_VERSIONS)]),
    "aws-ebs-csi-driver": ("storage", ["v1.37.0-eksbuild.1", "v1.36.0-eksbuild.1"]),
    "eks-pod-identity-agent": ("security", ["v1.3.4-eksbuild.1"]),
}


class EksError(Exception):
    """An EKS error answer: HTTP status, x-amzn-ErrorType and {"message": ...}."""

    def __init__(self, status, kind, message, **names):
        super().__init__(message)
        self.status, self.kind, self.body = status, kind, {"message": message, **names}


def not_found(msg, **names):
    return EksError(404, "ResourceNotFoundException", msg, **names)


def in_use(msg, **names):
    return EksError(409, "ResourceInUseException", msg, **names)


def bad_param(msg, **names):
    return EksError(400, "InvalidParameterException", msg, **names)


def bad_request(msg, **names):
    return EksError(400, "InvalidRequestException", msg, **names)


# ----- per-cluster state and the lazy clock ---------------------------------

class ClusterState:
    def __init__(self):
        self.addons = {}    # addonName -> Addon (wire shape)
        self.entries = {}   # principalArn -> AccessEntry (wire shape)
        self.policies = {}  # principalArn -> {policyArn: AssociatedAccessPolicy}
        self.updates = []   # (scope, Update); scope None | ("nodegroup"|"addon", name)
        self.pending = []   # (due, fn): changes that settle() applies later


def state(cluster):
    st = cluster.__dict__.get("_fleet")
    if st is None:
        st = cluster._fleet = ClusterState()
    return st


def later(cluster, fn):
    """Apply `fn` now (no delay) or on the first EKS request after DELAY."""
    if DELAY <= 0:
        fn()
    else:
        state(cluster).pending.append((time.time() + DELAY, fn))


def settle(backend):
    now = time.time()
    for cluster in list(backend.clusters.values()):
        st = cluster.__dict__.get("_fleet")
        if st and st.pending:
            due = [p for p in st.pending if p[0] <= now]
            st.pending = [p for p in st.pending if p[0] > now]
            for _, fn in due:
                fn()


def start_update(cluster, scope, kind, params, apply):
    """Record an Update; `apply` makes the change when it completes."""
    update = {"id": str(uuid.uuid4()), "status": "InProgress", "type": kind,
              "params": [{"type": t, "value": v} for t, v in params],
              "createdAt": time.time(), "errors": []}
    state(cluster).updates.append((scope, update))

    def finish():
        apply()
        update["status"] = "Successful"
    later(cluster, finish)
    return update


def busy(cluster, scope):
    return any(s == scope and u["status"] == "InProgress" for s, u in state(cluster).updates)


def minor(version, what="version"):
    m = re.fullmatch(r"(\d+)\.(\d+)", version or "")
    if not m:
        raise bad_param(f"Invalid {what}: {version}")
    return int(m.group(1)), int(m.group(2))


def release_for(version):
    return f"{version}.0-20250101"  # an EKS-optimised AMI release label shape


# ----- the request ------------------------------------------------------------

class Call:
    """One intercepted EKS request: where it goes and what it says."""

    def __init__(self, app, environ, access_key, scope_region, params):
        self.app, self.environ, self.p = app, environ, params
        self.method = environ["REQUEST_METHOD"]
        self.query = parse_qs(environ.get("QUERY_STRING", ""))
        # Region and account exactly as moto's BaseResponse derives them.
        self.region = scope_region
        for text, rx in ((environ.get("HTTP_HOST", ""), BaseResponse.region_regex),
                         (environ.get("HTTP_USER_AGENT", ""), BaseResponse.region_from_useragent_regex)):
            m = rx.search(text)
            if m:
                self.region = m.group("region")
                break
        m = BaseResponse.access_key_regex.search(environ.get("HTTP_AUTHORIZATION", ""))
        self.access_key = m.group("access_key") if m else "AKIAEXAMPLE"
        if "MOTO_ACCOUNT_ID" in os.environ:
            self.account = os.environ["MOTO_ACCOUNT_ID"]
        elif environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            self.account = environ["HTTP_X_MOTO_ACCOUNT_ID"]
        else:
            from moto.iam.models import get_account_id_from
            self.account = get_account_id_from(self.access_key)
        self.partition = get_partition(self.region)
        self.backend = eks_backends[self.account][self.region]
        # Read the body once and put it back so moto can read it too.
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            self.raw = stream.read()
        else:
            self.raw = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(self.raw), str(len(self.raw))

    @cached_property
    def body(self):
        try:
            return json.loads(self.raw or b"{}")
        except ValueError:
            raise EksError(400, "SerializationException", "Request body is not valid JSON")

    def arg(self, name):
        """A query-string parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def cluster(self):
        name = self.p["name"]
        cluster = self.backend.clusters.get(name)
        if cluster is None:
            raise not_found(f"No cluster found for name: {name}.", clusterName=name)
        return cluster

    def active_cluster(self):
        cluster = self.cluster()
        if cluster.status != "ACTIVE":
            raise bad_request(f"Cluster '{cluster.name}' is not in ACTIVE status", clusterName=cluster.name)
        return cluster

    def nodegroup(self, cluster, name):
        ng = cluster.nodegroups.get(name)
        if ng is None:
            raise not_found(f"No node group found for name: {name}.",
                            clusterName=cluster.name, nodegroupName=name)
        return ng

    def arn(self, kind, *parts):
        return f"arn:{self.partition}:eks:{self.region}:{self.account}:{kind}/" + "/".join(parts)

    def moto(self):
        """Let moto answer this request; returns (status line, headers, body)."""
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


def page(items, call, default_max=100):
    """maxResults/nextToken paging; the token is simply the next index."""
    try:
        start = int(call.arg("nextToken") or 0)
        size = int(call.arg("maxResults") or default_max)
    except ValueError:
        raise bad_param("The nextToken or maxResults parameter is not valid.")
    chunk = items[start:start + size]
    return chunk, (str(start + size) if start + size < len(items) else None)


def drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


def patch_json(response, fn):
    """Apply `fn` to a successful JSON answer from moto; pass errors on as they are."""
    status, headers, body = response
    if not status.startswith("200"):
        return response
    data = json.loads(body)
    fn(data)
    return status, [h for h in headers if h[0].lower() != "content-length"], json.dumps(data).encode()


# ----- clusters (moto's, touched up) -----------------------------------------

def create_cluster(call):
    access = call.body.get("accessConfig") or {}
    mode = access.get("authenticationMode", "CONFIG_MAP")  # the API's default
    if mode not in AUTH_MODES:
        raise bad_param(f"Unsupported authentication mode: {mode}")
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    cluster = call.backend.clusters[call.body["name"]]
    bootstrap = access.get("bootstrapClusterCreatorAdminPermissions", True)
    # moto drops accessConfig; an attribute of this name is what its serializer
    # reads for DescribeCluster, so setting it makes every later answer carry it.
    cluster.access_config = {"authenticationMode": mode,
                             "bootstrapClusterCreatorAdminPermissions": bootstrap}
    # moto returns resourcesVpcConfig as sent; EKS fills in these defaults and
    # creates a cluster security group in the subnets' VPC.
    vpc = dict(cluster.resources_vpc_config or {})
    vpc.setdefault("securityGroupIds", [])
    vpc.setdefault("endpointPublicAccess", True)
    vpc.setdefault("endpointPrivateAccess", False)
    vpc.setdefault("publicAccessCidrs", ["0.0.0.0/0"])
    ec2 = ec2_backend(call)
    for subnet_id in vpc.get("subnetIds") or []:
        try:
            vpc["vpcId"] = ec2.get_subnet(subnet_id).vpc_id
            break
        except Exception:  # unknown subnet: moto does not check, neither do we
            continue
    if "vpcId" in vpc:
        sg = ec2.create_security_group(
            name=f"eks-cluster-sg-{cluster.name}-{uuid.uuid4().hex[:10]}",
            description="EKS created security group applied to ENI that is attached to EKS "
                        "Control Plane master nodes, as well as any managed workloads.",
            vpc_id=vpc["vpcId"],
            tags={"aws:eks:cluster-name": cluster.name, f"kubernetes.io/cluster/{cluster.name}": "owned"})
        vpc["clusterSecurityGroupId"] = sg.id
    cluster.resources_vpc_config = vpc
    # EKS makes the creator a cluster admin through an access entry when the
    # cluster uses access entries at all.
    if mode != "CONFIG_MAP" and bootstrap:
        principal = caller_principal(call)
        try:
            add_entry(call, cluster, principal, "STANDARD", [], None, {})
            state(cluster).policies[principal] = {CLUSTER_ADMIN: {
                "policyArn": CLUSTER_ADMIN, "accessScope": {"type": "cluster", "namespaces": []},
                "associatedAt": time.time(), "modifiedAt": time.time()}}
        except EksError:  # a caller identity EKS would not accept as a principal
            pass
    if DELAY > 0:
        cluster.status = "CREATING"
        later(cluster, lambda: setattr(cluster, "status", "ACTIVE"))

    def fix(data):
        data["cluster"].update(accessConfig=cluster.access_config, resourcesVpcConfig=vpc,
                               status=cluster.status)
    return patch_json(response, fix)


def delete_cluster(call):
    cluster = call.backend.clusters.get(call.p["name"])
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    sg = (cluster.resources_vpc_config or {}).get("clusterSecurityGroupId")
    if sg:
        try:
            ec2_backend(call).delete_security_group(group_id=sg)
        except Exception:  # still referenced or already gone: leave it
            pass
    # moto answers with the removed cluster still ACTIVE; EKS says DELETING.
    return patch_json(response, lambda data: data["cluster"].update(status="DELETING"))


def update_cluster_config(call):
    cluster = call.cluster()
    kinds = [k for k in ("resourcesVpcConfig", "logging", "accessConfig", "upgradePolicy",
                         "zonalShiftConfig", "remoteNetworkConfig", "deletionProtection") if k in call.body]
    # computeConfig, storageConfig and kubernetesNetworkConfig go together (Auto Mode).
    if any(k in call.body for k in ("computeConfig", "storageConfig", "kubernetesNetworkConfig")):
        kinds.append("autoMode")
    if len(kinds) != 1:
        raise bad_param("Only one type of update can be allowed." if kinds
                        else "No changes needed for the cluster configuration provided.")
    if busy(cluster, None):
        raise in_use("Update already in progress", clusterName=cluster.name)
    call.active_cluster()
    kind, body = kinds[0], call.body
    if kind == "resourcesVpcConfig":
        kind, params, apply = vpc_update(cluster, body["resourcesVpcConfig"])
    elif kind == "logging":
        kind, params, apply = logging_update(cluster, body["logging"])
    elif kind == "accessConfig":
        current = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
        wanted = body["accessConfig"].get("authenticationMode")
        if wanted not in AUTH_MODES or AUTH_MODES.index(wanted) <= AUTH_MODES.index(current):
            raise bad_param(f"Unsupported authentication mode update from {current} to {wanted}")

        def apply():
            cluster.access_config = {**getattr(cluster, "access_config", {}), "authenticationMode": wanted}
        kind, params = "AccessConfigUpdate", [("AuthenticationMode", wanted)]
    else:
        # Settings moto's Cluster does not model: keep them as attributes named
        # the way moto's serializer looks them up, so DescribeCluster shows them.
        keys = [k for k in ("computeConfig", "storageConfig", "kubernetesNetworkConfig") if k in body] \
            if kind == "autoMode" else [kind]
        params = [(k[0].upper() + k[1:], json.dumps(body[k])) for k in keys]
        kind = {"autoMode": "AutoModeUpdate", "upgradePolicy": "UpgradePolicyUpdate",
                "zonalShiftConfig": "ZonalShiftConfigUpdate", "deletionProtection": "DeletionProtectionUpdate",
                "remoteNetworkConfig": "RemoteNetworkConfigUpdate"}[kind]

        def apply():
            for k in keys:
                old = getattr(cluster, snake(k), None)
                new = body[k]
                setattr(cluster, snake(k), {**old, **new} if isinstance(old, dict) and isinstance(new, dict) else new)
    return {"update": begin_cluster_update(cluster, kind, params, apply)}


def vpc_update(cluster, req):
    old = dict(cluster.resources_vpc_config or {})
    new = {**old, **{k: v for k, v in req.items() if v is not None}}
    if not new.get("endpointPublicAccess", True) and not new.get("endpointPrivateAccess", False):
        raise bad_param("Both endpointPublicAccess and endpointPrivateAccess cannot be false.")
    if new == old:
        raise bad_param(
            "Cluster is already at the desired configuration with endpointPrivateAccess: "
            f"{str(old.get('endpointPrivateAccess')).lower()} , endpointPublicAccess: "
            f"{str(old.get('endpointPublicAccess')).lower()}, and Public Endpoint Restrictions: "
            f"[{', '.join(old.get('publicAccessCidrs') or [])}]", clusterName=cluster.name)
    names = {"endpointPublicAccess": "EndpointPublicAccess", "endpointPrivateAccess": "EndpointPrivateAccess",
             "publicAccessCidrs": "PublicAccessCidrs", "subnetIds": "Subnets", "securityGroupIds": "SecurityGroups"}
    params = [(names[k], json.dumps(v) if isinstance(v, list) else str(v).lower())
              for k, v in req.items() if k in names and v is not None]
    kind = "VpcConfigUpdate" if {"subnetIds", "securityGroupIds"} & set(req) else "EndpointAccessUpdate"
    # Merge, unlike moto, which replaces the whole block with the request's.
    return kind, params, lambda: setattr(cluster, "resources_vpc_config", new)


def logging_update(cluster, req):
    all_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    enabled = {t for s in (cluster.logging or {}).get("clusterLogging", []) if s.get("enabled")
               for t in s.get("types", [])}
    wanted = set(enabled)
    for setup in req.get("clusterLogging", []):
        for t in setup.get("types", []):
            if t not in all_types:
                raise bad_param(f"Invalid log type: {t}")
            (wanted.add if setup.get("enabled") else wanted.discard)(t)
    if wanted == enabled:
        raise bad_param("No changes needed for the logging config provided", clusterName=cluster.name)
    on = [t for t in all_types if t in wanted]
    off = [t for t in all_types if t not in wanted]
    logging = {"clusterLogging": [s for s in ({"types": on, "enabled": True}, {"types": off, "enabled": False})
                                  if s["types"]]}
    return "LoggingUpdate", [("ClusterLogging", json.dumps(req))], lambda: setattr(cluster, "logging", logging)


def begin_cluster_update(cluster, kind, params, apply):
    # While the update runs the cluster is UPDATING, as EKS reports it.
    def done():
        apply()
        cluster.status = "ACTIVE"
    if DELAY > 0:
        cluster.status = "UPDATING"
    return start_update(cluster, None, kind, params, done)


def update_cluster_version(call):
    cluster = call.cluster()
    if busy(cluster, None):
        raise in_use("Update already in progress", clusterName=cluster.name)
    cluster = call.active_cluster()
    version = call.body.get("version")
    current, wanted = minor(cluster.version), minor(version)
    if wanted != (current[0], current[1] + 1):
        raise bad_param(f"Unsupported Kubernetes minor version update from {cluster.version} to {version}",
                        clusterName=cluster.name)
    # EKS: every managed node group must be on the cluster's version first.
    for ng in cluster.nodegroups.values():
        if ng.version != cluster.version:
            raise bad_request(f"Nodegroup {ng.nodegroup_name} must be on Kubernetes version "
                              f"{cluster.version} before the cluster can be updated to {version}",
                              clusterName=cluster.name, nodegroupName=ng.nodegroup_name)

    def apply():
        cluster.version, cluster.platformVersion = version, "eks.1"
    params = [("Version", version), ("PlatformVersion", "eks.1")]
    return {"update": begin_cluster_update(cluster, "VersionUpdate", params, apply)}


def describe_update(call):
    cluster = call.cluster()
    scope = update_scope(call, cluster)
    for s, update in state(cluster).updates:
        if s == scope and update["id"] == call.p["updateId"]:
            return {"update": update}
    raise not_found(f"No update found for ID: {call.p['updateId']}", clusterName=cluster.name)


def list_updates(call):
    cluster = call.cluster()
    scope = update_scope(call, cluster)
    ids, token = page([u["id"] for s, u in state(cluster).updates if s == scope], call)
    return drop_none({"updateIds": ids, "nextToken": token})


def update_scope(call, cluster):
    if call.arg("nodegroupName"):
        return ("nodegroup", call.nodegroup(cluster, call.arg("nodegroupName")).nodegroup_name)
    if call.arg("addonName"):
        return ("addon", addon(cluster, call.arg("addonName"))["addonName"])
    return None


# ----- node groups (moto's, touched up) --------------------------------------

def create_nodegroup(call):
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    cluster = call.backend.clusters[call.p["name"]]
    ng = cluster.nodegroups[call.body["nodegroupName"]]
    # moto hands every node group created without scalingConfig the same dict
    # object, so UpdateNodegroupConfig on one would resize them all.
    ng.scaling_config = dict(ng.scaling_config)
    # moto defaults to 1.19 and an old AMI; EKS uses the cluster's version.
    if not call.body.get("version"):
        ng.version = cluster.version
    if not call.body.get("releaseVersion"):
        ng.release_version = release_for(ng.version)
    if DELAY > 0:
        ng.status = "CREATING"
        later(cluster, lambda: setattr(ng, "status", "ACTIVE"))

    def fix(data):
        data["nodegroup"].update(version=ng.version, releaseVersion=ng.release_version, status=ng.status)
    return patch_json(response, fix)


def update_nodegroup_config(call):
    cluster = call.cluster()
    ng = call.nodegroup(cluster, call.p["nodegroupName"])
    if busy(cluster, ("nodegroup", ng.nodegroup_name)):
        raise in_use("Update already in progress", clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
    # moto applies the change and returns an Update it does not keep; keep it
    # so DescribeUpdate/ListUpdates know it.
    response = call.moto()
    if response[0].startswith("200"):
        state(cluster).updates.append((("nodegroup", ng.nodegroup_name), json.loads(response[2])["update"]))
    return response


def update_nodegroup_version(call):
    cluster = call.active_cluster()
    ng = call.nodegroup(cluster, call.p["nodegroupName"])
    scope = ("nodegroup", ng.nodegroup_name)
    if ng.status != "ACTIVE" or busy(cluster, scope):
        raise in_use(f"Nodegroup {ng.nodegroup_name} is currently {ng.status} and cannot be updated",
                     clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
    version = call.body.get("version") or cluster.version
    if minor(version) > minor(cluster.version):
        raise bad_param(f"Requested Nodegroup version {version} is invalid. Nodegroup version cannot "
                        f"be greater than control plane version {cluster.version}",
                        clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
    if minor(version) < minor(ng.version):
        raise bad_param(f"Requested Nodegroup version {version} is invalid. Node groups cannot be "
                        f"downgraded from {ng.version}", clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
    release = call.body.get("releaseVersion") or release_for(version)
    params = [("Version", version), ("ReleaseVersion", release)]
    template = call.body.get("launchTemplate")
    if template:
        current = ng.launch_template or {}
        if not current or not ({"id", "name"} & set(template)) or any(
                current.get(k) != template[k] for k in ("id", "name") if k in template):
            raise bad_param("The launch template must be the one the node group was created with.",
                            clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
        params += [("LaunchTemplateName", current.get("name")), ("LaunchTemplateVersion", template.get("version"))]

    def apply():
        ng.version, ng.release_version, ng.status = version, release, "ACTIVE"
        if template and template.get("version"):
            ng.launch_template = {**ng.launch_template, "version": template["version"]}
        ng.modified_at = eks_models.utcnow()
    if DELAY > 0:
        ng.status = "UPDATING"
    return {"update": start_update(cluster, scope, "VersionUpdate", [p for p in params if p[1]], apply)}


# ----- add-ons ----------------------------------------------------------------

def addon(cluster, name):
    found = state(cluster).addons.get(name)
    if found is None:
        raise not_found(f"No addon: {name} found in cluster: {cluster.name}",
                        clusterName=cluster.name, addonName=name)
    return found


def check_addon_version(cluster, name, version):
    if name not in ADDONS:
        raise bad_param(f"Addon {name} specified is not supported in {cluster.version} kubernetes version",
                        clusterName=cluster.name, addonName=name)
    if version is None:
        compatible = [v for v in ADDONS[name][1] if compatible_with(name, v, cluster.version)]
        return (compatible or ADDONS[name][1])[0]
    if not ADDON_VERSION_RE.match(version):
        raise bad_param("Addon version specified is not supported", clusterName=cluster.name, addonName=name)
    return version


def compatible_with(name, version, k8s):
    # kube-proxy vX.Y.* runs on Kubernetes X.Y only; the rest on every version listed.
    return name != "kube-proxy" or version.startswith(f"v{k8s}.")


def create_addon(call):
    cluster = call.active_cluster()
    name = call.body.get("addonName")
    st = state(cluster)
    if name in st.addons:
        raise in_use("Addon already exists.", clusterName=cluster.name, addonName=name)
    version = check_addon_version(cluster, name, call.body.get("addonVersion"))
    now = time.time()
    item = drop_none({
        "addonName": name, "clusterName": cluster.name, "status": "CREATING", "addonVersion": version,
        "health": {"issues": []}, "addonArn": call.arn("addon", cluster.name, name, str(uuid.uuid4())),
        "createdAt": now, "modifiedAt": now, "serviceAccountRoleArn": call.body.get("serviceAccountRoleArn"),
        "tags": call.body.get("tags") or {}, "publisher": "eks", "owner": "aws",
        "configurationValues": call.body.get("configurationValues"), "podIdentityAssociations": []})
    st.addons[name] = item
    later(cluster, lambda: item.update(status="ACTIVE"))
    return {"addon": item}


def describe_addon(call):
    return {"addon": addon(call.cluster(), call.p["addonName"])}


def list_addons(call):
    names, token = page(list(state(call.cluster()).addons), call)
    return drop_none({"addons": names, "nextToken": token})


def update_addon(call):
    cluster = call.cluster()
    item = addon(cluster, call.p["addonName"])
    if item["status"] not in ("ACTIVE", "DEGRADED", "UPDATE_FAILED"):
        raise in_use(f"Addon {item['addonName']} is currently {item['status']} and cannot be updated",
                     clusterName=cluster.name, addonName=item["addonName"])
    changes, params = {}, []
    for key, param in (("addonVersion", "AddonVersion"), ("serviceAccountRoleArn", "ServiceAccountRoleArn"),
                       ("resolveConflicts", "ResolveConflicts"), ("configurationValues", "ConfigurationValues")):
        if call.body.get(key) is not None:
            params.append((param, call.body[key]))
            if key != "resolveConflicts":
                changes[key] = call.body[key]
    if "addonVersion" in changes:
        check_addon_version(cluster, item["addonName"], changes["addonVersion"])
    item["status"] = "UPDATING"

    def apply():
        item.update(changes, status="ACTIVE", modifiedAt=time.time())
    return {"update": start_update(cluster, ("addon", item["addonName"]), "AddonUpdate", params, apply)}


def delete_addon(call):
    cluster = call.cluster()
    item = addon(cluster, call.p["addonName"])
    item["status"] = "DELETING"
    later(cluster, lambda: state(cluster).addons.pop(item["addonName"], None))
    return {"addon": item}


def describe_addon_versions(call):
    k8s, wanted = call.arg("kubernetesVersion"), call.arg("addonName")
    types = call.query.get("types")
    infos = []
    for name, (kind, versions) in ADDONS.items():
        if (wanted and name != wanted) or (types and kind not in types):
            continue
        rows = []
        for v in versions:
            clusters = [c for c in K8S_VERSIONS if compatible_with(name, v, c) and (not k8s or c == k8s)]
            if clusters:
                default = v == next(x for x in versions if compatible_with(name, x, clusters[0]))
                rows.append({"addonVersion": v, "architecture": ["amd64", "arm64"], "computeTypes": ["ec2"],
                             "compatibilities": [{"clusterVersion": c, "platformVersions": ["*"],
                                                  "defaultVersion": default} for c in clusters],
                             "requiresConfiguration": False, "requiresIamPermissions": name == "aws-ebs-csi-driver"})
        if rows:
            infos.append({"addonName": name, "type": kind, "addonVersions": rows,
                          "publisher": "eks", "owner": "aws", "defaultNamespace": "kube-system"})
    found, token = page(infos, call)
    return drop_none({"addons": found, "nextToken": token})


# ----- access entries and access policies ------------------------------------

def api_mode_cluster(call):
    cluster = call.cluster()
    if (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP") == "CONFIG_MAP":
        raise bad_request(NOT_API_MODE, clusterName=cluster.name)
    return cluster


def entry(cluster, principal):
    found = state(cluster).entries.get(principal)
    if found is None:
        raise not_found("The specified principalArn could not be found. You can view your available "
                        "access entries with 'list-access-entries'.", clusterName=cluster.name)
    return found


def add_entry(call, cluster, principal, kind, groups, username, tags):
    m = PRINCIPAL_RE.match(principal or "")
    if not m:
        raise bad_param(f"The specified principalArn is invalid: {principal}", clusterName=cluster.name)
    if kind not in ENTRY_TYPES:
        raise bad_param(f"The specified type is invalid: {kind}", clusterName=cluster.name)
    account, role_or_user, name = m.groups()
    if kind != "STANDARD" and (role_or_user != "role" or groups or username):
        raise bad_param(f"Access entries of type {kind} need an IAM role and take no kubernetesGroups "
                        "or username.", clusterName=cluster.name)
    if principal in state(cluster).entries:
        raise in_use("The specified access entry resource is already in use on this cluster.",
                     clusterName=cluster.name)
    if username is None:  # what EKS picks when none is given
        if kind == "STANDARD":
            username = (f"arn:{call.partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}"
                        if role_or_user == "role" else principal)
        elif kind in ("EC2_LINUX", "EC2_WINDOWS", "EC2"):
            username = "system:node:{{EC2PrivateDNSName}}"
        else:
            username = "system:node:{{SessionName}}"
    now = time.time()
    item = {"clusterName": cluster.name, "principalArn": principal, "kubernetesGroups": list(groups),
            "accessEntryArn": call.arn("access-entry", cluster.name, role_or_user, account, name, str(uuid.uuid4())),
            "createdAt": now, "modifiedAt": now, "tags": dict(tags), "username": username, "type": kind}
    state(cluster).entries[principal] = item
    return item


def caller_principal(call):
    """The IAM identity (not the STS session) moto's GetCallerIdentity reports for this caller."""
    from moto.sts.models import sts_backends
    _, arn, _ = sts_backends[call.account][call.partition].get_caller_identity(call.access_key, call.region)
    m = re.match(r"^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", arn)
    if m:
        return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}"
    return arn.replace(":sts::", ":iam::", 1)


def create_access_entry(call):
    cluster = api_mode_cluster(call)
    b = call.body
    item = add_entry(call, cluster, b.get("principalArn"), b.get("type") or "STANDARD",
                     b.get("kubernetesGroups") or [], b.get("username"), b.get("tags") or {})
    return {"accessEntry": item}


def describe_access_entry(call):
    return {"accessEntry": entry(api_mode_cluster(call), call.p["principalArn"])}


def list_access_entries(call):
    cluster = api_mode_cluster(call)
    st, policy = state(cluster), call.arg("associatedPolicyArn")
    principals = [p for p in st.entries if not policy or policy in st.policies.get(p, {})]
    found, token = page(principals, call)
    return drop_none({"accessEntries": found, "nextToken": token})


def update_access_entry(call):
    cluster = api_mode_cluster(call)
    item = entry(cluster, call.p["principalArn"])
    if item["type"] != "STANDARD" and ("kubernetesGroups" in call.body or "username" in call.body):
        raise bad_param(f"Access entries of type {item['type']} take no kubernetesGroups or username.",
                        clusterName=cluster.name)
    for key in ("kubernetesGroups", "username"):
        if call.body.get(key) is not None:
            item[key] = call.body[key]
    item["modifiedAt"] = time.time()
    return {"accessEntry": item}


def delete_access_entry(call):
    cluster = api_mode_cluster(call)
    entry(cluster, call.p["principalArn"])
    state(cluster).entries.pop(call.p["principalArn"])
    state(cluster).policies.pop(call.p["principalArn"], None)
    return {}


def associate_access_policy(call):
    cluster = api_mode_cluster(call)
    principal = entry(cluster, call.p["principalArn"])["principalArn"]
    policy, scope = call.body.get("policyArn") or "", call.body.get("accessScope") or {}
    if not POLICY_RE.match(policy):
        raise bad_param(f"The specified policyArn is invalid: {policy}", clusterName=cluster.name)
    namespaces = scope.get("namespaces") or []
    if scope.get("type") not in ("cluster", "namespace") or (scope["type"] == "namespace") != bool(namespaces):
        raise bad_param("accessScope must be type cluster without namespaces, or type namespace with "
                        "at least one namespace.", clusterName=cluster.name)
    now = time.time()
    policies = state(cluster).policies.setdefault(principal, {})
    previous = policies.get(policy)
    policies[policy] = {"policyArn": policy, "accessScope": {"type": scope["type"], "namespaces": namespaces},
                        "associatedAt": previous["associatedAt"] if previous else now, "modifiedAt": now}
    return {"clusterName": cluster.name, "principalArn": principal, "associatedAccessPolicy": policies[policy]}


def disassociate_access_policy(call):
    cluster = api_mode_cluster(call)
    principal = entry(cluster, call.p["principalArn"])["principalArn"]
    if state(cluster).policies.get(principal, {}).pop(call.p["policyArn"], None) is None:
        raise not_found(f"The specified policyArn {call.p['policyArn']} is not associated with this "
                        "access entry.", clusterName=cluster.name)
    return {}


def list_associated_access_policies(call):
    cluster = api_mode_cluster(call)
    principal = entry(cluster, call.p["principalArn"])["principalArn"]
    found, token = page(list(state(cluster).policies.get(principal, {}).values()), call)
    return drop_none({"clusterName": cluster.name, "principalArn": principal,
                      "associatedAccessPolicies": found, "nextToken": token})


# ----- tags on what moto cannot tag -------------------------------------------

def tags(call):
    arn = call.p["resourceArn"]
    target = None
    for cluster in call.backend.clusters.values():
        st = state(cluster)
        for obj in list(cluster.nodegroups.values()) + list(cluster.fargate_profiles.values()):
            if arn in (getattr(obj, "arn", None), getattr(obj, "fargate_profile_arn", None)):
                target = obj.tags
        for item in list(st.addons.values()) + list(st.entries.values()):
            if arn in (item.get("addonArn"), item.get("accessEntryArn")):
                target = item["tags"]
    if target is None:  # a cluster ARN or nothing we know: moto's answer
        return call.moto()
    if call.method == "POST":
        target.update(call.body.get("tags") or {})
        return {}
    if call.method == "DELETE":
        for key in call.query.get("tagKeys", []):
            target.pop(key, None)
        return {}
    return {"tags": target}


# ----- plumbing -----------------------------------------------------------------

ROUTES = [
    ("POST", "clusters", create_cluster),
    ("DELETE", "clusters/{name}", delete_cluster),
    ("POST", "clusters/{name}/update-config", update_cluster_config),
    ("POST", "clusters/{name}/updates", update_cluster_version),
    ("GET", "clusters/{name}/updates", list_updates),
    ("GET", "clusters/{name}/updates/{updateId}", describe_update),
    ("POST", "clusters/{name}/node-groups", create_nodegroup),
    ("POST", "clusters/{name}/node-groups/{nodegroupName}/update-config", update_nodegroup_config),
    ("POST", "clusters/{name}/node-groups/{nodegroupName}/update-version", update_nodegroup_version),
    ("POST", "clusters/{name}/addons", create_addon),
    ("GET", "clusters/{name}/addons", list_addons),
    ("GET", "clusters/{name}/addons/{addonName}", describe_addon),
    ("DELETE", "clusters/{name}/addons/{addonName}", delete_addon),
    ("POST", "clusters/{name}/addons/{addonName}/update", update_addon),
    ("GET", "addons/supported-versions", describe_addon_versions),
    ("POST", "clusters/{name}/access-entries", create_access_entry),
    ("GET", "clusters/{name}/access-entries", list_access_entries),
    ("GET", "clusters/{name}/access-entries/{principalArn}", describe_access_entry),
    ("POST", "clusters/{name}/access-entries/{principalArn}", update_access_entry),
    ("DELETE", "clusters/{name}/access-entries/{principalArn}", delete_access_entry),
    ("POST", "clusters/{name}/access-entries/{principalArn}/access-policies", associate_access_policy),
    ("GET", "clusters/{name}/access-entries/{principalArn}/access-policies", list_associated_access_policies),
    ("DELETE", "clusters/{name}/access-entries/{principalArn}/access-policies/{policyArn}",
     disassociate_access_policy),
    ("POST", "tags/{resourceArn}", tags),
    ("DELETE", "tags/{resourceArn}", tags),
    ("GET", "tags/{resourceArn}", tags),
]


def snake(name):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def match(method, raw_path):
    # Match on the raw path: ARNs in labels arrive percent-encoded ("/" as
    # %2F), and werkzeug's PATH_INFO has already decoded them into extra segments.
    segments = raw_path.strip("/").split("/")
    for route_method, template, handler in ROUTES:
        parts = template.split("/")
        if route_method != method or len(parts) != len(segments):
            continue
        params = {}
        for part, seg in zip(parts, segments):
            if part.startswith("{"):
                params[part[1:-1]] = unquote(seg)
            elif part != seg:
                break
        else:
            if all(params.values()):
                return handler, params
    return None


# EKS operations by (method, path pattern), for IAM authorization.
EKS_OPERATIONS = [(m, re.compile(p + "/?"), op) for m, p, op in [
    ("POST", r"/clusters", "CreateCluster"), ("GET", r"/clusters", "ListClusters"),
    ("GET", r"/clusters/[^/]+", "DescribeCluster"), ("DELETE", r"/clusters/[^/]+", "DeleteCluster"),
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
    ("POST", r"/clusters/[^/]+/addons", "CreateAddon"), ("GET", r"/clusters/[^/]+/addons", "ListAddons"),
    ("GET", r"/clusters/[^/]+/addons/[^/]+", "DescribeAddon"),
    ("DELETE", r"/clusters/[^/]+/addons/[^/]+", "DeleteAddon"),
    ("POST", r"/clusters/[^/]+/addons/[^/]+/update", "UpdateAddon"),
    ("GET", r"/addons/supported-versions", "DescribeAddonVersions"),
    ("POST", r"/clusters/[^/]+/access-entries", "CreateAccessEntry"),
    ("GET", r"/clusters/[^/]+/access-entries", "ListAccessEntries"),
    ("GET", r"/clusters/[^/]+/access-entries/[^/]+", "DescribeAccessEntry"),
    ("POST", r"/clusters/[^/]+/access-entries/[^/]+", "UpdateAccessEntry"),
    ("DELETE", r"/clusters/[^/]+/access-entries/[^/]+", "DeleteAccessEntry"),
    ("POST", r"/clusters/[^/]+/access-entries/[^/]+/access-policies", "AssociateAccessPolicy"),
    ("GET", r"/clusters/[^/]+/access-entries/[^/]+/access-policies", "ListAssociatedAccessPolicies"),
    ("DELETE", r"/clusters/[^/]+/access-entries/[^/]+/access-policies/[^/]+", "DisassociateAccessPolicy"),
    ("POST", r"/tags/.+", "TagResource"), ("DELETE", r"/tags/.+", "UntagResource"),
    ("GET", r"/tags/.+", "ListTagsForResource"),
]]

# moto's own EKS check fails every signature; eks_authorize() replaces it.
EKSResponse._authenticate_and_authorize_normal_action = lambda self, resource="*": None
# See the module docstring: moto's signature recomputation is Python-specific.
IAMRequest.check_signature = lambda self: None


def eks_authorize(environ, raw_path, account):
    """None if the caller may make this EKS call, else the EksError to answer."""
    if ActionAuthenticatorMixin.request_count < moto_settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return None
    method = environ["REQUEST_METHOD"]
    operation = next((op for m, rx, op in EKS_OPERATIONS if m == method and rx.fullmatch(raw_path)), None)
    if operation is None:
        return bad_request(f"unknown EKS operation {method} {raw_path}")
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    try:
        IAMRequest(account_id=account, method=method, path=raw_path, data={}, body=b"", headers=headers,
                   action=operation).check_action_permitted("*")
    except AccessDeniedError as err:
        return EksError(403, "AccessDeniedException", err.message)
    except Exception as err:  # unknown access key and the like
        return EksError(403, "UnrecognizedClientException", str(err))
    return None


class FleetMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        scope = SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if strict_ec2 and environ.get("PATH_INFO", "").startswith("/moto-fleet/"):  # strict_ec2 hook
            answer = strict_ec2.control(environ, start_response)  # strict_ec2 hook
            if answer is not None:  # strict_ec2 hook
                return answer  # strict_ec2 hook
        if strict_ec2 and scope and scope.group(3) == "ec2":  # strict_ec2 hook
            return strict_ec2.handle(environ, start_response, self.app)  # strict_ec2 hook
        if not scope or scope.group(3) != "eks":
            return self.app(environ, start_response)
        raw = (environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "")).split("?")[0]
        found = match(environ["REQUEST_METHOD"], raw)
        with LOCK:
            try:
                call = Call(self.app, environ, scope.group(1), scope.group(2), found[1] if found else {})
            except KeyError:  # a region moto has no EKS backend for: moto's answer
                return self.app(environ, start_response)
            settle(call.backend)
            denied = eks_authorize(environ, raw, call.account)
            if not found and not denied:  # an EKS operation moto serves as it is
                return self.app(environ, start_response)
            try:
                if denied:
                    raise denied
                result = found[0](call)
                if isinstance(result, dict):
                    result = ("200 OK", [("Content-Type", "application/json")], json.dumps(result).encode())
            except EksError as err:
                headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", err.kind)]
                result = (f"{err.status} {HTTPStatus(err.status).phrase}", headers, json.dumps(err.body).encode())
        status, headers, body = result
        if not any(h[0].lower() == "x-amzn-requestid" for h in headers):
            headers = headers + [("x-amzn-RequestId", str(uuid.uuid4()))]
        headers = [h for h in headers if h[0].lower() != "content-length"] + [("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]


def ec2_backend(call):
    from moto.ec2.models import ec2_backends
    return ec2_backends[call.account][call.region]


def main(argv=None):
    # Same options and start-up as moto.server.main, with our middleware in front.
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    parser.add_argument("-s", "--ssl", action="store_true")
    parser.add_argument("-c", "--ssl-cert")
    parser.add_argument("-k", "--ssl-key")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs from it
    try:
        signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    except ValueError:
        pass
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True
    ssl = (args.ssl_cert, args.ssl_key) if args.ssl_cert and args.ssl_key else ("adhoc" if args.ssl else None)
    run_simple(args.host, args.port, FleetMiddleware(moto_app), threaded=True,
               ssl_context=ssl, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
