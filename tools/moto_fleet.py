#!/usr/bin/env python3
"""`moto_server`, plus the EKS operations moto 5.2.5 lacks.

    python tools/moto_fleet.py -H 127.0.0.1 -p 5000

Serves exactly what `moto_server` serves (every service on one port,
`/moto-api/` included, moto's environment settings such as
MOTO_IAM_LOAD_MANAGED_POLICIES honoured because moto runs in this process),
with a WSGI middleware in front that answers, for EKS requests only (SigV4
credential scope service "eks"):

  * operations moto 5.2.5 does not have: add-ons (Create/Describe/List/Update/
    DeleteAddon, DescribeAddonVersions, DescribeAddonConfiguration, and the
    add-ons' own Pod Identity associations), access entries and access policies,
    EKS Pod Identity associations (Create/Describe/List/Update/
    DeletePodIdentityAssociation), DescribeClusterVersions (a table of
    Kubernetes versions that tests can move, see CLUSTER_VERSIONS),
    UpdateClusterVersion, UpdateNodegroupVersion, DescribeUpdate, ListUpdates,
    and TagResource/UntagResource/ListTagsForResource on node group, Fargate
    profile, add-on, access entry and Pod Identity association ARNs (moto tags
    clusters only);
  * operations moto has but answers unlike EKS: UpdateClusterConfig (moto
    returns no `update`, replaces resourcesVpcConfig wholesale and ignores
    accessConfig) is implemented here; CreateCluster, CreateNodegroup,
    UpdateNodegroupConfig and DeleteCluster go to moto and are touched up
    afterwards (see the handlers).

For IAM it adds what IAM does on its own: a thumbprint for an OpenID Connect
provider created without ThumbprintList (moto keeps the list empty; see
fill_oidc_thumbprint), DeleteRole conflicts and role propagation (below).

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

Durations: with the `durations` behaviour (tools/realism.py, on by default)
clusters, node groups, add-ons and updates stay CREATING/UPDATING/DELETING/
InProgress for EKS's real durations times MOTO_FLEET_TIME_SCALE; without it
everything settles at once (moto's style). MOTO_FLEET_DELAY_SECONDS, when set,
overrides every duration with one value (0: settle at once), as it did before
the realism switches existed. Pending changes are applied by the first request
(any service) after they are due, which lets waiters be exercised.

The other AWS behaviours (IAM propagation, zones EKS refuses, failures with
reasons, IAM DeleteRole conflicts, PassRole/service-linked-role/KMS checks,
EKS error shapes) are switched by MOTO_FLEET_REALISM; see realism.py and the
`realism.on(...)` guards below. Control endpoints (not AWS-signed):
GET /moto-fleet/realism, POST /moto-fleet/realism/reset, POST
/moto-fleet/fail-next, POST /moto-fleet/lose-responses, POST
/moto-fleet/leftovers (EC2, by tools/strict_ec2.py when present), GET/POST
/moto-fleet/cluster-versions (the Kubernetes version table), and
/moto-fleet/kubernetes/REGION/CLUSTER[/token-review|/subject-access-review]: a
real kube-apiserver attached to a cluster and EKS's authentication and
authorization webhooks for it (tools/kube_stand.py starts one), and GET
/moto-fleet/requests (POST .../reset): the signed requests so far, by region,
service and access key, so a test sees which regions a CI job touched.

TLS (`--tls-port P --tls-cert-out FILE`): the same backends also on HTTPS at
port P, with a self-signed certificate for 127.0.0.1 written to FILE for
clients to trust (SSL_CERT_FILE). Terragrunt's S3 bootstrap gives the state
bucket a policy that denies requests without TLS (`aws:SecureTransport`),
as AWS then does; moto enforces that policy too, so S3 state needs HTTPS.
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

from werkzeug.serving import make_server, run_simple

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

import lost_responses
import realism

try:  # EC2 strictness, written separately (tools/strict_ec2.py): optional
    import strict_ec2
except ImportError:
    strict_ec2 = None

_DELAY_ENV = os.environ.get("MOTO_FLEET_DELAY_SECONDS")
# Backwards compatibility: one delay for everything, overriding `durations`.
DELAY = float(_DELAY_ENV) if _DELAY_ENV not in (None, "") else None


def duration(real_seconds):
    """How long a state EKS holds for `real_seconds` lasts here."""
    if DELAY is not None:
        return DELAY
    return realism.seconds(real_seconds) if realism.on("durations") else 0


# EKS durations (real seconds). Cluster creation takes about 10 minutes and
# deletion several minutes: https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html
# Managed node groups and add-ons: minutes, see
# https://docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html
CLUSTER_CREATING, CLUSTER_DELETING = 600, 240
NODEGROUP_CREATING, NODEGROUP_DELETING, NODEGROUP_UPDATING = 240, 300, 300
ADDON_CREATING, ADDON_UPDATING, ADDON_DELETING = 60, 60, 30
CLUSTER_UPDATE, CLUSTER_VERSION_UPDATE = 300, 600
NAME_RESERVED, ENI_LINGER = 60, 180
# SQS refuses a queue of a deleted queue's name for 60 seconds (QueueDeletedRecently):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html
QUEUE_NAME_RESERVED = 60
DELETED_QUEUES = {}  # (account, region, name) -> time until which the name is refused
# moto's server is threaded; one lock keeps our read-modify-write steps and
# moto's EKS handlers from interleaving. EKS traffic in tests is light.
LOCK = threading.RLock()
# Every signed request's (access key, region, service), for GET /moto-fleet/requests.
REQUEST_LOG = []
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
K8S_VERSIONS = [f"1.{m}" for m in range(23, 38)]  # kube-proxy builds, one per minor
# DescribeAddonVersions catalogue: name -> (type, versions, newest first; the
# first is the default). kube-proxy follows the cluster's minor version.
ADDONS = {
    "vpc-cni": ("networking", ["v1.19.0-eksbuild.1", "v1.18.6-eksbuild.1"]),
    "coredns": ("networking", ["v1.11.3-eksbuild.2", "v1.11.1-eksbuild.9"]),
    "kube-proxy": ("networking", [f"v{v}.0-eksbuild.1" for v in reversed(K8S_VERSIONS)]),
    "aws-ebs-csi-driver": ("storage", ["v1.37.0-eksbuild.1", "v1.36.0-eksbuild.1"]),
    "aws-efs-csi-driver": ("storage", ["v2.1.4-eksbuild.1", "v2.0.7-eksbuild.1"]),
    "eks-pod-identity-agent": ("security", ["v1.3.4-eksbuild.1"]),
    "amazon-cloudwatch-observability": ("observability", ["v2.6.0-eksbuild.1", "v2.5.0-eksbuild.1"]),
}
# The namespace each add-on installs into (DescribeAddonVersions'
# defaultNamespace), where its pod identity associations are made.
# amazon-cloudwatch-observability runs in its own namespace:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Observability-EKS-addon.html
ADDON_NAMESPACES = {"amazon-cloudwatch-observability": "amazon-cloudwatch"}
# DescribeAddonConfiguration's podIdentityConfiguration: the service accounts an
# add-on's pods use and the AWS managed policies EKS recommends for them
# (https://docs.aws.amazon.com/eks/latest/APIReference/API_AddonPodIdentityConfiguration.html;
# the accounts and policies are the ones the add-ons' own pages name:
# https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html,
# https://docs.aws.amazon.com/eks/latest/userguide/cni-iam-role.html,
# https://docs.aws.amazon.com/eks/latest/userguide/efs-csi.html,
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Observability-EKS-addon.html).
# Add-ons not listed (coredns, kube-proxy, eks-pod-identity-agent) call no AWS
# API and have none. Partition "aws" here; answers use the caller's.
ADDON_POD_IDENTITY = {
    "vpc-cni": [("aws-node", ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"])],
    "aws-ebs-csi-driver": [("ebs-csi-controller-sa",
                            ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"])],
    "aws-efs-csi-driver": [("efs-csi-controller-sa",
                            ["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"])],
    "amazon-cloudwatch-observability": [("cloudwatch-agent", ["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
                                                              "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"])],
}
# The top-level keys of each add-on's configuration schema
# (DescribeAddonConfiguration's configurationSchema), with their JSON types.
ADDON_SCHEMA = {
    "vpc-cni": {"env": "object", "init": "object", "nodeAgent": "object", "resources": "object",
                "enableNetworkPolicy": "string", "tolerations": "array"},
    "coredns": {"replicaCount": "integer", "resources": "object", "tolerations": "array",
                "nodeSelector": "object", "affinity": "object", "podDisruptionBudget": "object",
                "autoScaling": "object", "corefile": "string"},
    "kube-proxy": {"mode": "string", "ipvs": "object", "iptables": "object", "resources": "object",
                   "podAnnotations": "object"},
    "aws-ebs-csi-driver": {"controller": "object", "node": "object", "sidecars": "object",
                           "defaultStorageClass": "object", "storageClasses": "array"},
    "aws-efs-csi-driver": {"controller": "object", "node": "object", "sidecars": "object"},
    "eks-pod-identity-agent": {"agent": "object", "resources": "object", "tolerations": "array",
                               "affinity": "object"},
    "amazon-cloudwatch-observability": {"agent": "object", "containerLogs": "object", "manager": "object",
                                        "tolerations": "array", "dcgmExporter": "object"},
}


def addon_namespace(name):
    return ADDON_NAMESPACES.get(name, "kube-system")


# ----- Kubernetes versions (DescribeClusterVersions) ---------------------------
# The Amazon EKS Kubernetes release calendar as of 2026-12, from
# https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html
# ("standard support for the first 14 months after it's released ... extended
# support for the next 12 months"): (version, EKS release, end of standard
# support, end of extended support, patch version). 1.36's dates follow the
# 14 + 12 month rule from its release; the calendar lists the rest as given.
CALENDAR = [
    ("1.29", "2024-01-23", "2025-03-23", "2026-03-23", "1.29.15"),
    ("1.30", "2024-05-23", "2025-07-23", "2026-07-23", "1.30.14"),
    ("1.31", "2024-09-26", "2025-11-26", "2026-11-26", "1.31.13"),
    ("1.32", "2025-01-23", "2026-03-23", "2027-03-23", "1.32.9"),
    ("1.33", "2025-05-29", "2026-07-29", "2027-07-29", "1.33.5"),
    ("1.34", "2025-10-02", "2026-12-02", "2027-12-02", "1.34.2"),
    ("1.35", "2026-01-27", "2027-03-27", "2028-03-27", "1.35.1"),
    ("1.36", "2026-06-25", "2027-08-25", "2028-08-25", "1.36.0"),
]


def epoch(value):
    """A date as the API's timestamps: "YYYY-MM-DD" (UTC midnight) or epoch seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    import datetime
    day = datetime.date.fromisoformat(str(value))
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp()


def version_row(item):
    """One table row from a control request or CALENDAR: dates as epoch seconds."""
    version = str(item["clusterVersion"])
    if not re.fullmatch(r"\d+\.\d+", version):
        raise ValueError(f"clusterVersion {version!r} is not MAJOR.MINOR")
    row = {"clusterVersion": version, "clusterType": item.get("clusterType", "eks"),
           "releaseDate": epoch(item["releaseDate"]),
           "endOfStandardSupportDate": epoch(item["endOfStandardSupportDate"]),
           "endOfExtendedSupportDate": epoch(item["endOfExtendedSupportDate"]),
           "kubernetesPatchVersion": item.get("kubernetesPatchVersion", f"{version}.0"),
           "defaultPlatformVersion": item.get("defaultPlatformVersion", "eks.1")}
    if "defaultVersion" in item:
        row["defaultVersion"] = bool(item["defaultVersion"])
    return row


def calendar_rows():
    return [version_row({"clusterVersion": v, "releaseDate": r, "endOfStandardSupportDate": s,
                         "endOfExtendedSupportDate": e, "kubernetesPatchVersion": p,
                         "defaultPlatformVersion": "eks.8"}) for v, r, s, e, p in CALENDAR]


# The table DescribeClusterVersions and CreateCluster read; tests move it with
# POST /moto-fleet/cluster-versions (a new version appearing, a version close
# to the end of standard support). POST /moto-api/reset restores the calendar.
CLUSTER_VERSIONS = calendar_rows()


def version_status(row, now=None):
    """A version's support status follows the calendar, as EKS's does."""
    now = time.time() if now is None else now
    if now < row["endOfStandardSupportDate"]:
        return "STANDARD_SUPPORT"
    if now < row["endOfExtendedSupportDate"]:
        return "EXTENDED_SUPPORT"
    return "UNSUPPORTED"


def cluster_versions(now=None):
    """The table as DescribeClusterVersions answers it, newest first."""
    rows = sorted(CLUSTER_VERSIONS, key=lambda r: tuple(map(int, r["clusterVersion"].split("."))), reverse=True)
    standard = [r["clusterVersion"] for r in rows if version_status(r, now) == "STANDARD_SUPPORT"]
    explicit = [r["clusterVersion"] for r in rows if r.get("defaultVersion")]
    # EKS's default (what CreateCluster uses without a version): the newest
    # version in standard support unless the table names one.
    default = (explicit or standard or [None])[0]
    out = []
    for r in rows:
        st = version_status(r, now)
        out.append({**r, "defaultVersion": r["clusterVersion"] == default, "versionStatus": st,
                    # `status` is the deprecated lowercase twin of versionStatus.
                    "status": st.lower().replace("_", "-")})
    return out


def offered_version(version):
    """The row of a version CreateCluster accepts (standard or extended support), or None."""
    return next((r for r in cluster_versions() if r["clusterVersion"] == version
                 and r["versionStatus"] != "UNSUPPORTED"), None)


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


# ----- failures on demand (POST /moto-fleet/fail-next) -----------------------

FAIL_KINDS = ["cluster-create", "nodegroup-create", "addon-create", "addon-update",
              "nodegroup-version", "cluster-version", "cluster-create-denied"]
FAIL_NEXT = []  # {"kind", "name" (optional), "message" (optional)}


def take_failure(kind, name):
    """The armed failure for this operation on `name`, removed, or None."""
    for i, f in enumerate(FAIL_NEXT):
        if f["kind"] == kind and f.get("name") in (None, name):
            realism.injected("failures")
            return FAIL_NEXT.pop(i)
    return None


# ----- IAM propagation (iam-lag) and IAM eventual consistency --------------------
#
# IAM is eventually consistent: "changes that you make [...] might not be
# immediately visible [...] we recommend that you don't include such IAM
# changes in the critical, high-availability code paths"
# https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
# EKS checks the roles it is handed when CreateCluster/CreateNodegroup/
# CreateAccessEntry arrive, so a role created a moment earlier is refused.

OBSERVER_KEY_PREFIX = "AKIAEKSFLEETOBSERVER"  # the tests' own checks: never lagged
IAM_LAG = 10              # real seconds a role change takes to be visible to EKS
NODE_ROLE_RELEASE = 60    # real seconds a deleted node group still holds its node role
ROLE_CHANGES = {}         # (account, role name) -> {"at", "kind", "refused"}
ROLES_CREATED = {}        # (account, role name) -> {"at", "refused"}: for trust policies naming it
NODE_ROLES_RELEASED = {}  # (account, role name) -> {"at": when the node group using it was gone, "refused"}
SLR_SEEN = set()          # (account, service-linked role name) EKS has created


def role_key(arn):
    m = re.match(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$", arn or "")
    return (m.group(1), m.group(2)) if m else None


def role_lagging(call, arn):
    """The kind of the role's latest change ("create"/"attach"/"put") if EKS
    cannot see it yet, else None. The FIRST use after a change always lags
    (so the behaviour is exercised whatever the timing), later uses while the
    change is younger than IAM_LAG (compressed) do as well."""
    return role_lagging_for(call.signing_key, arn)


def role_lagging_for(signing_key, arn):
    """`role_lagging` for a request signed with SIGNING_KEY."""
    if not realism.on("iam-lag") or signing_key.startswith(OBSERVER_KEY_PREFIX):
        return None
    change = ROLE_CHANGES.get(role_key(arn))
    if change is None:
        return None
    if not change["refused"] or time.time() - change["at"] < realism.seconds(IAM_LAG):
        change["refused"] = True
        realism.injected("iam-lag")
        return change["kind"]
    return None


def eks_role_error(call, arn, what):
    """EKS's refusal of a role IAM has not propagated yet, or None."""
    kind = role_lagging(call, arn)
    if kind is None:
        return None
    if what == "cluster":
        # Both messages are the ones CreateCluster answers during propagation
        # (terraform-provider-aws internal/service/eks/cluster.go retries on them):
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html (InvalidParameterException)
        if kind == "create":
            return bad_param(f"Role with arn: {arn}, could not be assumed because it does not exist "
                             "or the trusted entity is not correct")
        return bad_param("The provided role doesn't have the Amazon EKS Managed Policies associated with it. "
                         "Please ensure the following policies [arn:aws:iam::aws:policy/AmazonEKSClusterPolicy] "
                         "are attached")
    if what == "nodegroup":
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html (InvalidParameterException)
        return bad_param(f"Following required service principals [ec2.amazonaws.com] were not found in the "
                         f"trust relationships of nodeRole {arn}",
                         clusterName=call.p.get("name"), nodegroupName=call.body.get("nodegroupName"))
    # https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html (InvalidParameterException)
    return bad_param("The specified principalArn is invalid: invalid principal", clusterName=call.p.get("name"))


def record_iam(account, action, form):
    """After moto answered an IAM request with 200: remember role changes."""
    role = (form.get("RoleName") or [None])[0]
    if not role:
        return
    kinds = {"CreateRole": "create", "AttachRolePolicy": "attach", "PutRolePolicy": "put"}
    if action in kinds:
        ROLE_CHANGES[(account, role)] = {"at": time.time(), "kind": kinds[action], "refused": False}
    if action == "CreateRole":
        ROLES_CREATED[(account, role)] = {"at": time.time(), "refused": False}
    elif action == "DeleteRole":
        ROLE_CHANGES.pop((account, role), None)
        ROLES_CREATED.pop((account, role), None)
        NODE_ROLES_RELEASED.pop((account, role), None)


def role_identity(account, form):
    """(ARN, unique id) of the role a request names, or None."""
    from moto.iam.models import iam_backends
    name = (form.get("RoleName") or [None])[0]
    if not name:
        return None
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        try:
            role = iam_backends[account][partition].get_role(name)
            return role.arn, role.id
        except Exception:  # not in this partition
            continue
    return None


def orphan_trust_principals(account, arn, unique_id):
    """After DeleteRole: trust policies naming the deleted role now show its unique
    id (AROA...) in place of its ARN, and a role made again under that name is not
    trusted by them. IAM stores a role principal as its unique id when the policy is
    saved: "If you delete the role, then the relationship is broken. ... the principal
    ID appears in resource-based policies because AWS can no longer map it back to a
    valid ARN" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
    moto keeps the ARN, so a re-created role would still be trusted."""
    from moto.iam.models import iam_backends
    partition = arn.split(":")[1]
    for role in list(iam_backends[account][partition].roles.values()):
        document = role.assume_role_policy_document or ""
        if arn not in document:
            continue
        try:
            policy = json.loads(document)
        except ValueError:
            continue
        statements = policy.get("Statement", [])
        changed = False
        for statement in statements if isinstance(statements, list) else [statements]:
            principal = statement.get("Principal") if isinstance(statement, dict) else None
            if not isinstance(principal, dict) or "AWS" not in principal:
                continue
            aws = principal["AWS"]
            if aws == arn:
                principal["AWS"], changed = unique_id, True
            elif isinstance(aws, list) and arn in aws:
                principal["AWS"], changed = [unique_id if a == arn else a for a in aws], True
        if changed:
            role.assume_role_policy_document = json.dumps(policy)


def fill_oidc_thumbprint(account, action, form, body):
    """After moto answered CreateOpenIDConnectProvider with 200: a provider
    created without ThumbprintList gets one, as IAM does ("This parameter is
    optional. If it is not included, IAM will retrieve and use the top
    intermediate certificate authority (CA) thumbprint of the OpenID Connect
    identity provider server certificate":
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html).
    moto 5.2.5 accepts the missing list but keeps it empty, so
    GetOpenIDConnectProvider would answer ThumbprintList []. The stand-in
    cannot fetch the certificate: the thumbprint (40 hex digits, a SHA-1 as
    IAM's are) is derived from the provider's host, the same for every
    provider on that host, as the real one is for every EKS cluster's issuer
    in a region."""
    if action != "CreateOpenIDConnectProvider" or any(k.startswith("ThumbprintList.member.") for k in form):
        return
    m = re.search(rb"<OpenIDConnectProviderArn>([^<]+)</OpenIDConnectProviderArn>", body)
    if not m:
        return
    import hashlib
    from moto.iam.models import iam_backends
    arn = m.group(1).decode()
    partition = arn.split(":")[1]
    provider = iam_backends[account][partition].open_id_providers.get(arn)
    if provider is not None and not provider.thumbprint_list:
        host = provider.url.split("/")[0]
        provider.thumbprint_list = [hashlib.sha1(host.encode()).hexdigest()]


def trust_principal_refusal(account, signing_key, action, form):
    """IAM checks the roles a trust policy names when it is saved: a role that
    does not exist, or was made so recently IAM does not show it yet, is
    refused with MalformedPolicyDocument "Invalid principal in policy"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles,
    and eventual consistency, link above). moto saves any principal."""
    field = {"CreateRole": "AssumeRolePolicyDocument", "UpdateAssumeRolePolicy": "PolicyDocument"}.get(action)
    if field is None or not realism.on("iam-lag"):
        return None
    try:
        document = json.loads((form.get(field) or ["{}"])[0])
    except ValueError:
        return None
    from moto.iam.models import iam_backends
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        principals = (statement.get("Principal") or {}) if isinstance(statement, dict) else {}
        aws = principals.get("AWS", []) if isinstance(principals, dict) else []
        for arn in [aws] if isinstance(aws, str) else aws:
            key = role_key(arn)
            if key is None or key[0] != account:
                continue  # another account's role, or not a role: not checked here
            backend = iam_backends[account][get_partition("us-east-1")]
            exists = any(r.name == key[1] for r in backend.roles.values())
            if not exists or principal_lagging(signing_key, key):
                return 400, "MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{arn}"'
    return None


def principal_lagging(signing_key, key):
    """Whether a role made moments ago is not yet a valid principal: the first
    trust policy naming it is always refused, later ones while the role is
    younger than IAM_LAG (compressed) too."""
    created = ROLES_CREATED.get(key)
    if created is None or signing_key.startswith(OBSERVER_KEY_PREFIX):
        return False
    if not created["refused"] or time.time() - created["at"] < realism.seconds(IAM_LAG):
        created["refused"] = True
        realism.injected("iam-lag")
        return True
    return False


def iam_refusal(account, signing_key, action, form):
    """An IAM error (status, code, message) moto would not give, or None."""
    refused = trust_principal_refusal(account, signing_key, action, form)
    if refused:
        return refused
    role = (form.get("RoleName") or [None])[0]
    if action != "DeleteRole" or not role or not realism.on("dependencies"):
        return None
    # moto 5.2.5 already refuses DeleteRole while the role is in an instance
    # profile ("Cannot delete entity, must remove roles from instance profile
    # first."), has attached managed policies ("... must detach all policies
    # first.") or inline policies ("... must delete policies first."), as IAM
    # does: https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
    # and https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html
    # What it lacks: a managed node group's instance profile (EKS-owned) is
    # removed from the node role some time after DeleteNodegroup completes, so
    # DeleteRole keeps failing for a while (IAM eventual consistency, link above).
    # The first DeleteRole after the release always fails (exercised whatever the timing).
    gone = NODE_ROLES_RELEASED.get((account, role))
    if gone is not None and (not gone["refused"] or time.time() - gone["at"] < realism.seconds(NODE_ROLE_RELEASE)):
        gone["refused"] = True
        realism.injected("dependencies")
        return 409, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first."
    return None


def iam_error(status, code, message):
    body = ('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()
    return (f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "text/xml")], body)


# ----- per-cluster state and the lazy clock ---------------------------------

class ClusterState:
    def __init__(self):
        self.addons = {}    # addonName -> Addon (wire shape)
        self.entries = {}   # principalArn -> AccessEntry (wire shape)
        self.policies = {}  # principalArn -> {policyArn: AssociatedAccessPolicy}
        self.associations = {}  # associationId -> PodIdentityAssociation (wire shape)
        self.tokens = {}    # CreatePodIdentityAssociation clientRequestToken -> associationId
        self.updates = []   # (scope, Update); scope None | ("nodegroup"|"addon", name)
        self.pending = []   # (due, fn): changes that settle() applies later


def state(cluster):
    st = cluster.__dict__.get("_fleet")
    if st is None:
        st = cluster._fleet = ClusterState()
    return st


def later(cluster, fn, real_seconds=0):
    """Apply `fn` now (no delay) or on the first request after its duration."""
    wait = duration(real_seconds)
    if wait <= 0:
        fn()
    else:
        if DELAY is None:
            realism.injected("durations")
        state(cluster).pending.append((time.time() + wait, fn))


# Changes that outlive a cluster (lingering ENIs): (due, fn), settled on every request.
GLOBAL_PENDING = []


def after(wait, fn):
    if wait <= 0:
        fn()
    else:
        GLOBAL_PENDING.append((time.time() + wait, fn))


def settle_global():
    now = time.time()
    due = [p for p in GLOBAL_PENDING if p[0] <= now]
    GLOBAL_PENDING[:] = [p for p in GLOBAL_PENDING if p[0] > now]
    for _, fn in due:
        try:
            fn()
        except Exception:  # the backend was reset under it: nothing to do
            pass


def settle(backend):
    now = time.time()
    for cluster in list(backend.clusters.values()):
        st = cluster.__dict__.get("_fleet")
        if st and st.pending:
            due = [p for p in st.pending if p[0] <= now]
            st.pending = [p for p in st.pending if p[0] > now]
            for _, fn in due:
                fn()
        if st:
            refresh_coredns(cluster)


def start_update(cluster, scope, kind, params, apply, real_seconds=CLUSTER_UPDATE, fail=None):
    """Record an Update; `apply` makes the change when it completes.

    `fail`: None, or (errorCode, errorMessage, resourceIds, undo): the update
    ends Failed with those errors and `undo` runs instead of `apply`
    (https://docs.aws.amazon.com/eks/latest/APIReference/API_Update.html,
    API_ErrorDetail.html)."""
    update = {"id": str(uuid.uuid4()), "status": "InProgress", "type": kind,
              "params": [{"type": t, "value": v} for t, v in params],
              "createdAt": time.time(), "errors": []}
    state(cluster).updates.append((scope, update))

    def finish():
        if fail:
            code, message, ids, undo = fail
            undo()
            update["status"] = "Failed"
            update["errors"] = [{"errorCode": code, "errorMessage": message, "resourceIds": ids}]
        else:
            apply()
            update["status"] = "Successful"
    later(cluster, finish, real_seconds)
    return update


def busy(cluster, scope):
    return any(s == scope and u["status"] == "InProgress" for s, u in state(cluster).updates)


def minor(version, what="version"):
    m = re.fullmatch(r"(\d+)\.(\d+)", version or "")
    if not m:
        raise bad_param(f"Invalid {what}: {version}")
    return int(m.group(1)), int(m.group(2))


def ami_releases(version):
    """The EKS-optimised AMI releases of a Kubernetes version, oldest first
    (the release label shape: KUBERNETES.PATCH-DATE)."""
    return [f"{version}.0-20250101", f"{version}.0-20250601"]


def release_for(version):
    """EKS's default release: the newest for the version (API_CreateNodegroup.html, releaseVersion)."""
    return ami_releases(version)[-1]


def check_release(call, version, release):
    """A releaseVersion EKS does not have for the version is refused:
    https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html (InvalidParameterException)"""
    if release and release not in ami_releases(version):
        raise bad_param(f"Requested release version {release} is not valid for kubernetes version {version}.",
                        clusterName=call.p.get("name"), nodegroupName=call.body.get("nodegroupName"))


# ----- the request ------------------------------------------------------------

def caller(environ):
    """(access key id, account) of a request, exactly as moto's BaseResponse derives them."""
    m = BaseResponse.access_key_regex.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key = m.group("access_key") if m else "AKIAEXAMPLE"
    if "MOTO_ACCOUNT_ID" in os.environ:
        return access_key, os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return access_key, environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.iam.models import get_account_id_from
    return access_key, get_account_id_from(access_key)


def read_body(environ):
    """The request body, put back so moto can read it too."""
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        raw = stream.read()
    else:
        raw = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
    return raw


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
        self.access_key, self.account = caller(environ)
        self.signing_key = access_key  # as signed (moto's regex wants exactly 20 characters)
        self.partition = get_partition(self.region)
        self.backend = eks_backends[self.account][self.region]
        self.raw = read_body(environ)

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
        return forward(self.app, self.environ)


def forward(app, environ):
    """moto's answer to `environ`: (status line, headers, body)."""
    out, chunks = {}, []

    def start_response(status, headers, exc_info=None):
        out["status"], out["headers"] = status, headers
        return chunks.append
    result = app(environ, start_response)
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

# Zone ids EKS does not place control planes in ("UnsupportedAvailabilityZoneException"
# on CreateCluster): https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html
# ("us-east-1 use1-az3, us-west-1 usw1-az2, ca-central-1 cac1-az3") and
# https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html (errors).
EKS_REFUSED_ZONE_IDS = {"use1-az3", "usw1-az2", "cac1-az3"}
# Local Zones are named <region>-<location>-<n><letter>, e.g. us-west-2-lax-1a;
# Wavelength Zones <region>-wl1-<location>-wlz-<n>. EKS control planes run in
# availability zones only: https://docs.aws.amazon.com/eks/latest/userguide/local-zones.html
EDGE_ZONE_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d-([a-z]+-\d+[a-z]|wl\d+-.*)$")


def zone_refused(zone):
    if getattr(zone, "zone_type", "availability-zone") != "availability-zone" or EDGE_ZONE_RE.match(zone.name):
        return True
    return zone.zone_id in EKS_REFUSED_ZONE_IDS


def check_zones(call, name, subnet_ids):
    """EKS's CreateCluster checks of the subnets' zones (behaviour `zones`)."""
    ec2 = ec2_backend(call)
    subnets = []
    for subnet_id in subnet_ids:
        try:
            subnets.append(ec2.get_subnet(subnet_id))
        except Exception:  # unknown subnet: moto does not check, neither do we
            continue
    if not subnets:
        return
    zones = {z.name: z for z in ec2.describe_availability_zones()}
    for subnet in subnets:
        zone = zones.get(subnet.availability_zone)
        zone_id = getattr(subnet, "availability_zone_id", None) or (zone.zone_id if zone else None)
        edge = bool(EDGE_ZONE_RE.match(subnet.availability_zone)) or (
            zone is not None and getattr(zone, "zone_type", "availability-zone") != "availability-zone")
        if edge or zone_id in EKS_REFUSED_ZONE_IDS:
            valid = sorted(z.name for z in zones.values() if not zone_refused(z))
            if getattr(strict_ec2, "zone_map", None) and realism.on("zones"):
                # Zone ids as this account sees them (strict_ec2 maps names per account).
                valid = sorted(n for n, zid in strict_ec2.zone_map(call.account, call.region).items()
                               if zid not in EKS_REFUSED_ZONE_IDS)
            realism.injected("zones")
            raise EksError(400, "UnsupportedAvailabilityZoneException",
                           f"Cannot create cluster '{name}' because {subnet.availability_zone}, the targeted "
                           "availability zone, does not currently have sufficient capacity to support the "
                           "cluster. Retry and choose from these availability zones: " + ", ".join(valid),
                           clusterName=name, validZones=valid)
    if len({s.availability_zone for s in subnets}) < 2:
        # https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html
        # ("subnets in at least two different Availability Zones")
        realism.injected("zones")
        raise bad_param("Subnets specified must be in at least two different AZs", clusterName=name)


def reserved_names(backend):
    return backend.__dict__.setdefault("_fleet_reserved", {})


# EKS's account that owns the control plane's cross-account ENIs ("Amazon EKS
# <cluster>"): https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html
# ("Amazon EKS creates up to 4 cross-account elastic network interfaces in the
# subnets ... the network interfaces have Amazon EKS <cluster name> in their description").
EKS_ENI_REQUESTER = "AROAEKSCONTROLPLANE"


def create_control_plane_enis(call, cluster, subnet_ids, sg):
    if not (realism.on("durations") or realism.on("dependencies")):
        return []
    ec2 = ec2_backend(call)
    chosen = list(subnet_ids[::2]) or list(subnet_ids)
    if len(subnet_ids) >= 2 and len(chosen) < 2:
        chosen = list(subnet_ids[:2])
    enis = []
    for subnet_id in chosen[:4]:
        try:
            subnet = ec2.get_subnet(subnet_id)
            eni = ec2.create_network_interface(subnet, None, group_ids=[sg] if sg else [],
                                               description=f"Amazon EKS {cluster.name}")
        except Exception:
            continue
        eni.requester_id = EKS_ENI_REQUESTER
        eni.requester_managed = False  # EKS's ENIs show RequesterManaged false, requester EKS
        eni.interface_type = "interface"
        enis.append(eni.id)
    return enis


def delete_enis(account, region, eni_ids):
    from moto.ec2.models import ec2_backends
    ec2 = ec2_backends[account][region]
    for eni_id in eni_ids:
        try:
            ec2.delete_network_interface(eni_id)
        except Exception:  # already gone
            pass


def control_plane_log_group(account, region, cluster):
    """What EKS does with control-plane logging on: it sends the logs to
    CloudWatch Logs group /aws/eks/NAME/cluster and creates that group, with
    no retention (events never expire), when it is missing; DeleteCluster
    leaves the group and its logs behind:
    https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
    A group that exists (made beforehand to set a retention) is used as it is."""
    if not any(s.get("enabled") and s.get("types") for s in (cluster.logging or {}).get("clusterLogging", [])):
        return
    from moto.logs.models import logs_backends
    logs_backends[account][region].ensure_log_group(f"/aws/eks/{cluster.name}/cluster")


AUTO_MODE_NODE_POOLS = ("general-purpose", "system")
AUTO_NODE_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"


def auto_mode_request(body, cluster_name, version, auth_mode, current_role=None):
    """EKS Auto Mode settings of a CreateCluster or UpdateClusterConfig body,
    checked as EKS checks them, as (enabled, attributes to keep), or None when
    the body sets none of them. Compute, block storage and load balancing are
    turned on or off together; Auto Mode needs Kubernetes 1.29 or later and
    access entries; node pools are general-purpose and system, and need the
    node role, which cannot change once compute is on
    (https://docs.aws.amazon.com/eks/latest/userguide/auto-enable-existing.html,
    https://docs.aws.amazon.com/eks/latest/APIReference/API_ComputeConfigRequest.html).
    The refusals' wording is ours; their kind (InvalidParameterException) is EKS's."""
    compute = body.get("computeConfig")
    storage = (body.get("storageConfig") or {}).get("blockStorage")
    balancing = (body.get("kubernetesNetworkConfig") or {}).get("elasticLoadBalancing")
    if compute is None and storage is None and balancing is None:
        return None
    flags = [None if part is None else bool(part.get("enabled", False)) for part in (compute, storage, balancing)]
    if len(set(flags)) != 1:
        raise bad_param("For EKS Auto Mode, computeConfig, storageConfig.blockStorage and "
                        "kubernetesNetworkConfig.elasticLoadBalancing must all be enabled or all be disabled.",
                        clusterName=cluster_name)
    enabled = flags[0]
    pools = list(compute.get("nodePools") or [])
    role = compute.get("nodeRoleArn")
    if enabled:
        if minor(version) < (1, 29):
            raise bad_param(f"EKS Auto Mode requires Kubernetes version 1.29 or later; the cluster is on {version}.",
                            clusterName=cluster_name)
        if auth_mode == "CONFIG_MAP":
            raise bad_param("EKS Auto Mode requires the API or API_AND_CONFIG_MAP authentication mode.",
                            clusterName=cluster_name)
        unknown = [p for p in pools if p not in AUTO_MODE_NODE_POOLS]
        if unknown:
            raise bad_param(f"Invalid node pools {unknown}: use general-purpose and/or system.",
                            clusterName=cluster_name)
        if pools and not role:
            raise bad_param("computeConfig.nodeRoleArn is required when nodePools are given.",
                            clusterName=cluster_name)
        if current_role and role and role != current_role:
            raise bad_param("computeConfig.nodeRoleArn cannot be changed after the compute capability of EKS "
                            "Auto Mode is enabled.", clusterName=cluster_name)
    keep = {"compute_config": {"enabled": enabled, "nodePools": pools if enabled else [],
                               "nodeRoleArn": role or current_role},
            "storage_config": {"blockStorage": {"enabled": enabled}},
            "elastic_load_balancing": {"enabled": enabled}}
    return enabled, keep


def apply_auto_mode(call, cluster, keep):
    """Keeps the Auto Mode settings under the names moto's serializer reads,
    and makes the node role's access entry EKS makes for Auto Mode nodes
    (type EC2, AmazonEKSAutoNodePolicy:
    https://docs.aws.amazon.com/eks/latest/userguide/auto-learn-iam.html)."""
    from moto.eks.models import DEFAULT_KUBERNETES_NETWORK_CONFIG
    cluster.compute_config = keep["compute_config"]
    cluster.storage_config = keep["storage_config"]
    # moto keeps the request's kubernetesNetworkConfig as sent; EKS still
    # picks the service CIDR when the request names none.
    network = {**DEFAULT_KUBERNETES_NETWORK_CONFIG, **(cluster.kubernetes_network_config or {})}
    cluster.kubernetes_network_config = {**network, "elasticLoadBalancing": keep["elastic_load_balancing"]}
    role = keep["compute_config"].get("nodeRoleArn")
    if keep["compute_config"]["enabled"] and role and role not in state(cluster).entries:
        add_entry(call, cluster, role, "EC2", [], None, {})
        state(cluster).policies[role] = {AUTO_NODE_POLICY: {
            "policyArn": AUTO_NODE_POLICY, "accessScope": {"type": "cluster", "namespaces": []},
            "associatedAt": time.time(), "modifiedAt": time.time()}}


def create_cluster(call):
    access = call.body.get("accessConfig") or {}
    mode = access.get("authenticationMode", "CONFIG_MAP")  # the API's default
    name = call.body.get("name")
    if take_failure("cluster-create-denied", name):
        # A policy that does not allow the call: IAM's explicit wording
        # ("User: ARN is not authorized to perform: ACTION on resource: ARN"),
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
        raise EksError(403, "AccessDeniedException",
                       f"User: {caller_arn(call)} is not authorized to perform: eks:CreateCluster on resource: "
                       f"arn:{call.partition}:eks:{call.region}:{call.account}:cluster/{name}")
    if mode not in AUTH_MODES:
        raise bad_param(f"Unsupported authentication mode: {mode}")
    if name and name not in call.backend.clusters and realism.on("durations"):
        # A deleted cluster's name stays taken a while after DescribeCluster
        # already answers ResourceNotFoundException (ResourceInUseException:
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html errors).
        # As with iam-lag, the first CreateCluster after the cluster is gone is
        # always refused, so the behaviour is exercised whatever the timing.
        held = reserved_names(call.backend).get(name)
        if held and (not held["refused"] or time.time() < held["until"]):
            held["refused"] = True
            realism.injected("durations")
            raise in_use(f"Cluster already exists with name: {name}", clusterName=name)
        reserved_names(call.backend).pop(name, None)
    # EKS creates clusters on the versions DescribeClusterVersions offers
    # (standard or extended support) and on its default when none is given:
    # https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html (version).
    # The refusal is EKS's own wording (InvalidParameterException).
    version = call.body.get("version")
    if version is None:
        version = next((r["clusterVersion"] for r in cluster_versions() if r["defaultVersion"]), None)
    elif offered_version(version) is None:
        raise bad_param(f"unsupported Kubernetes version {version}", clusterName=name)
    # upgradePolicy.supportType: EXTENDED unless STANDARD is asked for
    # (https://docs.aws.amazon.com/eks/latest/APIReference/API_UpgradePolicyRequest.html).
    support = (call.body.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
    if support not in ("STANDARD", "EXTENDED"):
        raise bad_param(f"Unsupported support type: {support}", clusterName=name)
    auto_mode = auto_mode_request(call.body, name, version, mode)
    subnet_ids = list((call.body.get("resourcesVpcConfig") or {}).get("subnetIds") or [])
    if realism.on("zones"):
        check_zones(call, name, subnet_ids)
    lag = eks_role_error(call, call.body.get("roleArn"), "cluster")
    if lag:
        raise lag
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    cluster = call.backend.clusters[call.body["name"]]
    bootstrap = access.get("bootstrapClusterCreatorAdminPermissions", True)
    # moto drops accessConfig; an attribute of this name is what its serializer
    # reads for DescribeCluster, so setting it makes every later answer carry it.
    cluster.access_config = {"authenticationMode": mode,
                             "bootstrapClusterCreatorAdminPermissions": bootstrap}
    cluster.upgrade_policy = {"supportType": support}
    # Settings moto's Cluster does not model, kept under the names its
    # serializer reads (API_CreateCluster.html: deletionProtection, zonalShiftConfig).
    cluster.deletion_protection = bool(call.body.get("deletionProtection", False))
    cluster.zonal_shift_config = {"enabled": bool((call.body.get("zonalShiftConfig") or {}).get("enabled", False))}
    if version:  # moto's default would be 1.19
        cluster.version = version
    # Not part of DescribeCluster's answer; kept for the tests that ask
    # whether EKS was told to skip its self-managed add-ons.
    cluster._fleet_bootstrap_addons = call.body.get("bootstrapSelfManagedAddons", True)
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
        cluster._fleet_enis = create_control_plane_enis(call, cluster, vpc.get("subnetIds") or [], sg.id)
    cluster.resources_vpc_config = vpc
    control_plane_log_group(call.account, call.region, cluster)
    attach_pending_kube(cluster, call.region, call.account)
    if auto_mode is not None:
        apply_auto_mode(call, cluster, auto_mode[1])
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
    failure = take_failure("cluster-create", cluster.name)

    def created():
        if failure:
            # https://docs.aws.amazon.com/eks/latest/APIReference/API_ClusterIssue.html
            cluster.status = "FAILED"
            cluster.health = {"issues": [{"code": "InternalFailure", "message": failure.get("message") or
                                          "Cluster creation failed because of an internal failure.",
                                          "resourceIds": [cluster.name]}]}
        else:
            cluster.status = "ACTIVE"
    if duration(CLUSTER_CREATING) > 0:
        cluster.status = "CREATING"
    later(cluster, created, CLUSTER_CREATING)

    def fix(data):
        data["cluster"].update(accessConfig=cluster.access_config, resourcesVpcConfig=vpc,
                               status=cluster.status, upgradePolicy=cluster.upgrade_policy,
                               version=cluster.version, deletionProtection=cluster.deletion_protection,
                               zonalShiftConfig=cluster.zonal_shift_config)
        if auto_mode is not None:
            data["cluster"].update(computeConfig=cluster.compute_config, storageConfig=cluster.storage_config,
                                   kubernetesNetworkConfig=cluster.kubernetes_network_config)
        if getattr(cluster, "health", None):
            data["cluster"]["health"] = cluster.health
    return patch_json(response, fix)


def delete_cluster(call):
    cluster = call.backend.clusters.get(call.p["name"])
    if cluster is None and realism.on("eks-fidelity"):
        # moto's 404 has no clusterName (API_DeleteCluster.html lists it).
        call.cluster()
    if cluster is not None and busy(cluster, None):
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html
        # (ResourceInUseException) -- an update in progress blocks deletion.
        raise in_use(f"Cluster {cluster.name} has an update in progress", clusterName=cluster.name)
    if cluster is not None and cluster.status == "DELETING":
        # Already being deleted: EKS answers with the cluster, still DELETING.
        return call_describe(call)
    if cluster is not None and cluster.status == "ACTIVE" and getattr(cluster, "deletion_protection", False):
        # An ACTIVE cluster with deletion protection is refused (CREATING or
        # FAILED ones are not): https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html
        raise bad_request(f"Cluster {cluster.name} has deletion protection enabled. Disable deletion protection "
                          "before deleting the cluster.", clusterName=cluster.name)
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    backend, name = call.backend, cluster.name
    account, region = call.account, call.region
    sg = (cluster.resources_vpc_config or {}).get("clusterSecurityGroupId")
    enis = list(getattr(cluster, "_fleet_enis", []))

    def delete_sg():
        if sg:
            try:
                from moto.ec2.models import ec2_backends
                ec2_backends[account][region].delete_security_group(group_id=sg)
            except Exception:  # still referenced or already gone: leave it
                pass

    def release():
        delete_enis(account, region, enis)
        delete_sg()

    def gone():
        # The cluster's add-ons, access entries and Pod Identity associations
        # live on it (ClusterState) and go with it.
        if backend.clusters.get(name) is cluster:
            backend.clusters.pop(name)
            backend.cluster_count -= 1
        if realism.on("durations"):
            reserved_names(backend)[name] = {"until": time.time() + realism.seconds(NAME_RESERVED), "refused": False}
        # EKS's ENIs outlive the cluster by minutes (terraform-provider-aws's
        # deleteLingeringENIs exists for this); DeleteSubnet/DeleteSecurityGroup
        # answer DependencyViolation meanwhile:
        # https://docs.aws.amazon.com/vpc/latest/userguide/delete-vpc.html
        linger = realism.seconds(ENI_LINGER) if enis and realism.on("durations") else 0
        if linger:
            realism.injected("durations")
        after(linger, release)

    if duration(CLUSTER_DELETING) > 0:
        # Still there (DescribeCluster: DELETING) until EKS is done with it.
        cluster.status = "DELETING"
        backend.clusters[name] = cluster
        backend.cluster_count += 1
        later(cluster, gone, CLUSTER_DELETING)
    else:
        gone()
    # moto answers with the removed cluster still ACTIVE; EKS says DELETING.
    return patch_json(response, lambda data: data["cluster"].update(status="DELETING"))


def call_describe(call):
    """moto's DescribeCluster answer for call.p["name"]."""
    environ = dict(call.environ, REQUEST_METHOD="GET")
    environ["PATH_INFO"] = environ["REQUEST_URI"] = environ["RAW_URI"] = f"/clusters/{call.p['name']}"
    environ["wsgi.input"], environ["CONTENT_LENGTH"], environ["QUERY_STRING"] = io.BytesIO(b""), "0", ""
    return forward(call.app, environ)


def describe_cluster(call):
    name = call.p["name"]
    if name not in call.backend.clusters and realism.on("eks-fidelity"):
        # Real EKS sometimes answers a missing cluster with 400 ClientException
        # "No cluster found for name: X." (terraform-provider-aws's
        # internal/service/eks/cluster.go treats it as NotFound); every 5th here.
        # The 404 carries clusterName, as API_DescribeCluster.html lists.
        count = call.backend.__dict__["_fleet_missing"] = call.backend.__dict__.get("_fleet_missing", 0) + 1
        if count % 5 == 0:
            realism.injected("eks-fidelity")
            raise EksError(400, "ClientException", f"No cluster found for name: {name}.", clusterName=name)
        raise not_found(f"No cluster found for name: {name}.", clusterName=name)
    return call.moto()


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
        wanted = (body.get("upgradePolicy") or {}).get("supportType") if kind == "upgradePolicy" else None
        if kind == "upgradePolicy" and wanted not in ("STANDARD", "EXTENDED"):
            raise bad_param(f"Unsupported support type: {wanted}", clusterName=cluster.name)
        if kind == "autoMode":
            auth = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
            current_role = (getattr(cluster, "compute_config", None) or {}).get("nodeRoleArn")
            auto_mode = auto_mode_request(body, cluster.name, cluster.version, auth, current_role)
            if auto_mode is None:
                raise bad_param("No changes needed for the cluster configuration provided.")
            keys = [k for k in ("computeConfig", "storageConfig", "kubernetesNetworkConfig") if k in body]
            params = [(k[0].upper() + k[1:], json.dumps(body[k])) for k in keys]
            return {"update": begin_cluster_update(cluster, "AutoModeUpdate", params,
                                                   lambda: apply_auto_mode(call, cluster, auto_mode[1]))}
        # Settings moto's Cluster does not model: keep them as attributes named
        # the way moto's serializer looks them up, so DescribeCluster shows them.
        keys = [kind]
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
    account, region = cluster.arn.split(":")[4], cluster.arn.split(":")[3]

    def apply():
        cluster.logging = logging
        control_plane_log_group(account, region, cluster)
    return "LoggingUpdate", [("ClusterLogging", json.dumps(req))], apply


def begin_cluster_update(cluster, kind, params, apply, real_seconds=CLUSTER_UPDATE, fail=None):
    # While the update runs the cluster is UPDATING, as EKS reports it.
    def done():
        apply()
        cluster.status = "ACTIVE"
    if fail:
        code, message, ids, undo = fail

        def failed():
            undo()
            cluster.status = "ACTIVE"
        fail = (code, message, ids, failed)
    if duration(real_seconds) > 0:
        cluster.status = "UPDATING"
    return start_update(cluster, None, kind, params, done, real_seconds, fail)


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
    if offered_version(version) is None:
        raise bad_param(f"unsupported Kubernetes version {version}", clusterName=cluster.name)
    # EKS: every managed node group must be on the cluster's version first
    # (https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html: "the
    # Kubernetes version of your managed node groups must be the same as the
    # control plane's before you update"); EKS names them all in one message.
    lagging = [ng.nodegroup_name for ng in cluster.nodegroups.values() if ng.version != cluster.version]
    if lagging:
        raise bad_request(f"Nodegroups {', '.join(lagging)} must be updated to match cluster version "
                          f"{cluster.version} before updating cluster version",
                          clusterName=cluster.name, nodegroupName=lagging[0])

    def apply():
        cluster.version, cluster.platformVersion = version, "eks.1"
    params = [("Version", version), ("PlatformVersion", "eks.1")]
    failure = take_failure("cluster-version", cluster.name)
    fail = failure and ("Unknown", failure.get("message") or "The control plane update failed.",
                        [cluster.name], lambda: None)
    return {"update": begin_cluster_update(cluster, "VersionUpdate", params, apply,
                                           CLUSTER_VERSION_UPDATE, fail)}


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

# Nodes in private subnets reach EKS, ECR, EC2 and STS through a route out
# (0.0.0.0/0 to an internet or NAT gateway) or through VPC endpoints: interface
# endpoints ecr.api, ecr.dkr, ec2, sts and the s3 gateway endpoint.
# https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html
PRIVATE_ENDPOINTS = {"ecr.api", "ecr.dkr", "ec2", "sts"}


def subnets_without_way_out(call, subnet_ids):
    """The node group subnets whose nodes could not join the cluster."""
    ec2 = ec2_backend(call)
    stuck = []
    for subnet_id in subnet_ids:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except Exception:  # unknown subnet: moto does not check, neither do we
            continue
        tables = list(ec2.route_tables.values())
        table = next((t for t in tables if subnet_id in t._associations.values()), None) or next(
            (t for t in tables if t.vpc_id == subnet.vpc_id and t.main_association_id), None)
        routes = table.routes if table else []
        if any(r.destination_cidr_block == "0.0.0.0/0" and (
                (r.gateway and str(r.gateway.id).startswith("igw-")) or r.nat_gateway) for r in routes):
            continue
        # "com.amazonaws.<region>.ecr.api" -> "ecr.api"
        services = {e.service_name.split(".", 3)[-1]: getattr(e, "vpc_endpoint_type", None) or "Interface"
                    for e in ec2.vpc_end_points.values() if e.vpc_id == subnet.vpc_id
                    and getattr(e, "state", "available") == "available"}
        interfaces = {k for k, t in services.items() if (t or "Interface").lower() == "interface"}
        if PRIVATE_ENDPOINTS <= interfaces and (services.get("s3") or "").lower() == "gateway":
            continue
        stuck.append(subnet_id)
    return stuck


def node_creation_failure(ng, message=None):
    """NodeCreationFailure health issue as DescribeNodegroup shows it:
    https://docs.aws.amazon.com/eks/latest/APIReference/API_Issue.html"""
    count = max(1, int((ng.scaling_config or {}).get("desiredSize") or 1))
    ids = ["i-" + uuid.uuid4().hex[:17] for _ in range(count)]
    return {"issues": [{"code": "NodeCreationFailure",
                        "message": message or "Instances failed to join the kubernetes cluster",
                        "resourceIds": ids}]}


def create_nodegroup(call):
    if realism.on("eks-fidelity"):
        # moto's 404 for a missing cluster has no clusterName (API_CreateNodegroup.html lists it).
        call.cluster()
    lag = eks_role_error(call, call.body.get("nodeRole"), "nodegroup")
    if lag:
        raise lag
    check_update_config(call, call.body.get("updateConfig"))
    if call.p.get("name") in call.backend.clusters:
        check_release(call, call.body.get("version") or call.backend.clusters[call.p["name"]].version,
                      call.body.get("releaseVersion"))
    template = check_launch_template(call, call.body.get("launchTemplate"))
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    cluster = call.backend.clusters[call.p["name"]]
    ng = cluster.nodegroups[call.body["nodegroupName"]]
    # moto's CreateNodegroup drops updateConfig and nodeRepairConfig; EKS keeps
    # them and reports its defaults (one node at a time, no auto repair):
    # https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupUpdateConfig.html
    # https://docs.aws.amazon.com/eks/latest/APIReference/API_NodeRepairConfig.html
    ng.update_config = call.body.get("updateConfig") or {"maxUnavailable": 1}
    ng.node_repair_config = call.body.get("nodeRepairConfig") or {"enabled": False}
    # moto hands every node group created without scalingConfig the same dict
    # object, so UpdateNodegroupConfig on one would resize them all.
    ng.scaling_config = dict(ng.scaling_config)
    ng.health = {"issues": []}  # moto's default is one dict shared by all node groups too
    if template is not None:
        # With a launch template EKS reports no diskSize (the template has
        # the disk); the instance type is the template's when it names one
        # (the stand-in reports that type); the version is the one resolved
        # (a number, $Default made concrete):
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html
        ng.disk_size = None
        if not call.body.get("instanceTypes") and template[1].instance_type:
            ng.instance_types = [template[1].instance_type]
        ng.launch_template = {"id": template[0].id, "name": template[0].name, "version": str(template[1].number)}
    # moto defaults to 1.19 and an old AMI; EKS uses the cluster's version.
    if not call.body.get("version"):
        ng.version = cluster.version
    if not call.body.get("releaseVersion"):
        ng.release_version = release_for(ng.version)
    # In API authentication modes EKS makes an EC2_LINUX access entry for a
    # managed node group's role itself, so its nodes can join
    # (https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html;
    # "automatically created ... for the Managed Node Groups",
    # https://www.eksworkshop.com/docs/security/cluster-access-management/managing).
    mode = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
    if mode != "CONFIG_MAP" and call.body.get("nodeRole") not in state(cluster).entries:
        add_entry(call, cluster, call.body["nodeRole"], "EC2_LINUX", [], None, {})
    failure = take_failure("nodegroup-create", ng.nodegroup_name)
    if failure is None and realism.on("failures") and subnets_without_way_out(call, ng.subnets or []):
        realism.injected("failures")
        failure = {}

    def created():
        if failure is not None:
            ng.status, ng.health = "CREATE_FAILED", node_creation_failure(ng, failure.get("message"))
        else:
            ng.status = "ACTIVE"
    if duration(NODEGROUP_CREATING) > 0:
        ng.status = "CREATING"
    later(cluster, created, NODEGROUP_CREATING)

    def fix(data):
        data["nodegroup"].update(version=ng.version, releaseVersion=ng.release_version, status=ng.status,
                                 health=ng.health, updateConfig=ng.update_config,
                                 nodeRepairConfig=ng.node_repair_config)
        if template is not None:
            data["nodegroup"].pop("diskSize", None)
            data["nodegroup"].update(launchTemplate=ng.launch_template, instanceTypes=ng.instance_types)
    return patch_json(response, fix)


def launch_template_version(call, spec, cluster_name, nodegroup_name):
    """(template, version) a LaunchTemplateSpecification names, as EKS
    resolves it: by id or name, at `version` or the template's default.
    https://docs.aws.amazon.com/eks/latest/APIReference/API_LaunchTemplateSpecification.html"""
    from moto.ec2.models import ec2_backends
    ec2 = ec2_backends[call.account][call.region]
    names = dict(clusterName=cluster_name, nodegroupName=nodegroup_name)
    if bool(spec.get("id")) == bool(spec.get("name")):
        raise bad_param("Either launch template ID or name must be specified, but not both.", **names)
    template = (ec2.launch_templates.get(spec["id"]) if spec.get("id")
                else ec2.launch_templates.get(ec2.launch_template_name_to_ids.get(spec["name"], "")))
    if template is None:
        raise bad_param(f"Launch template {spec.get('id') or spec.get('name')} does not exist.", **names)
    try:
        return template, template.get_version(spec.get("version") or "$Default")
    except Exception:
        raise bad_param(f"Launch template {template.id} has no version {spec.get('version')}.", **names)


def check_launch_template(call, spec):
    """CreateNodegroup with a launch template: EKS refuses diskSize and
    remoteAccess beside it, and instance types both in the template and on
    the node group ("Customizing managed nodes with launch templates",
    https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html;
    https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html)."""
    if not spec:
        return None
    names = dict(clusterName=call.p.get("name"), nodegroupName=call.body.get("nodegroupName"))
    if call.body.get("diskSize") is not None:
        raise bad_param("Disk size must be specified within the launch template.", **names)
    if call.body.get("remoteAccess"):
        raise bad_param("Remote access configuration cannot be specified with a launch template.", **names)
    template, version = launch_template_version(call, spec, *names.values())
    if version.instance_type and call.body.get("instanceTypes"):
        raise bad_param("Instance type must not be specified both in the launch template and in the node group "
                        "request.", **names)
    return template, version


def delete_nodegroup(call):
    cluster = call.cluster()
    ng = call.nodegroup(cluster, call.p["nodegroupName"])
    if busy(cluster, ("nodegroup", ng.nodegroup_name)):
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteNodegroup.html (ResourceInUseException)
        raise in_use(f"Nodegroup {ng.nodegroup_name} has an update in progress",
                     clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
    if ng.status == "DELETING":
        return {"nodegroup": json.loads(describe_nodegroup_raw(call))["nodegroup"]}
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    account = call.account
    role = role_key(ng.node_role)

    def gone():
        if cluster.nodegroups.get(ng.nodegroup_name) is ng:
            cluster.nodegroups.pop(ng.nodegroup_name)
            cluster.nodegroup_count -= 1
        if role and realism.on("dependencies"):
            NODE_ROLES_RELEASED[(role[0] or account, role[1])] = {"at": time.time(), "refused": False}
    if duration(NODEGROUP_DELETING) > 0:
        ng.status = "DELETING"
        cluster.nodegroups[ng.nodegroup_name] = ng
        cluster.nodegroup_count += 1
        later(cluster, gone, NODEGROUP_DELETING)
    else:
        gone()
    return patch_json(response, lambda data: data["nodegroup"].update(status="DELETING"))


def describe_nodegroup_raw(call):
    environ = dict(call.environ, REQUEST_METHOD="GET")
    path = f"/clusters/{call.p['name']}/node-groups/{call.p['nodegroupName']}"
    environ["PATH_INFO"] = environ["REQUEST_URI"] = environ["RAW_URI"] = path
    environ["wsgi.input"], environ["CONTENT_LENGTH"], environ["QUERY_STRING"] = io.BytesIO(b""), "0", ""
    return forward(call.app, environ)[2]


def list_nodegroups(call):
    # eks-fidelity: moto 5.2.5 answers ListNodegroups on a missing cluster with
    # HTTP 500 (KeyError); EKS answers 404 ResourceNotFoundException:
    # https://docs.aws.amazon.com/eks/latest/APIReference/API_ListNodegroups.html
    if realism.on("eks-fidelity"):
        call.cluster()
    return call.moto()


def list_fargate_profiles(call):
    # eks-fidelity: moto 5.2.5 answers ListFargateProfiles on a missing cluster
    # with HTTP 500 (KeyError); EKS: 404 ResourceNotFoundException naming the cluster
    # (https://docs.aws.amazon.com/eks/latest/APIReference/API_ListFargateProfiles.html).
    if realism.on("eks-fidelity"):
        call.cluster()
    return call.moto()


def create_fargate_profile(call):
    # eks-fidelity: moto's ResourceNotFoundException for a missing cluster has no
    # clusterName; the API reference lists it
    # (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateFargateProfile.html).
    if realism.on("eks-fidelity"):
        call.cluster()
    return call.moto()


def describe_nodegroup(call):
    # moto answers a missing cluster with clusterName null; EKS names it
    # (https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeNodegroup.html).
    if realism.on("eks-fidelity"):
        call.nodegroup(call.cluster(), call.p["nodegroupName"])
    return call.moto()


def check_update_config(call, config):
    """NodegroupUpdateConfig takes exactly one of maxUnavailable and
    maxUnavailablePercentage, each 1-100:
    https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupUpdateConfig.html"""
    if config is None:
        return
    given = [k for k in ("maxUnavailable", "maxUnavailablePercentage") if config.get(k) is not None]
    if len(given) != 1:
        raise bad_param("Either maxUnavailable or maxUnavailablePercentage must be specified, not both",
                        clusterName=call.p.get("name"))
    if not 1 <= int(config[given[0]]) <= 100:
        raise bad_param(f"{given[0]} must be between 1 and 100", clusterName=call.p.get("name"))


def update_nodegroup_config(call):
    cluster = call.cluster()
    ng = call.nodegroup(cluster, call.p["nodegroupName"])
    check_update_config(call, call.body.get("updateConfig"))
    if busy(cluster, ("nodegroup", ng.nodegroup_name)):
        raise in_use("Update already in progress", clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
    # moto applies the change and returns an Update it does not keep; keep it
    # so DescribeUpdate/ListUpdates know it.
    response = call.moto()
    if not response[0].startswith("200"):
        return response
    update = json.loads(response[2])["update"]
    state(cluster).updates.append((("nodegroup", ng.nodegroup_name), update))
    if duration(NODEGROUP_UPDATING) > 0:
        # moto has applied the change already; EKS shows the node group
        # UPDATING and the update InProgress for minutes.
        update["status"], ng.status = "InProgress", "UPDATING"

        def done():
            update["status"], ng.status = "Successful", "ACTIVE"
        later(cluster, done, NODEGROUP_UPDATING)
    return patch_json(response, lambda data: data.update(update=update))


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
    check_release(call, version, call.body.get("releaseVersion"))
    release = call.body.get("releaseVersion") or release_for(version)
    params = [("Version", version), ("ReleaseVersion", release)]
    template = call.body.get("launchTemplate")
    if template:
        current = ng.launch_template or {}
        if not current or not ({"id", "name"} & set(template)) or any(
                current.get(k) != template[k] for k in ("id", "name") if k in template):
            raise bad_param("The launch template must be the one the node group was created with.",
                            clusterName=cluster.name, nodegroupName=ng.nodegroup_name)
        # The version must exist; EKS rolls the nodes onto it, a few at a
        # time, the group keeping its desired size throughout
        # (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html).
        _, resolved = launch_template_version(call, {"id": current["id"], "version": template.get("version")},
                                              cluster.name, ng.nodegroup_name)
        template = {**template, "version": str(resolved.number)}
        params += [("LaunchTemplateName", current.get("name")), ("LaunchTemplateVersion", template["version"])]

    def apply():
        ng.version, ng.release_version, ng.status = version, release, "ACTIVE"
        if template:
            ng.launch_template = {**ng.launch_template, "version": template["version"]}
            if resolved.instance_type:
                ng.instance_types = [resolved.instance_type]
        ng.modified_at = eks_models.utcnow()
    failure = take_failure("nodegroup-version", ng.nodegroup_name)
    fail = None
    if failure and not (call.body.get("force") and not failure.get("message")):
        # Pods that a PodDisruptionBudget keeps from being evicted fail the
        # update unless force is set:
        # https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html
        def undo():
            ng.status = "ACTIVE"
        fail = ("PodEvictionFailure", failure.get("message") or
                "Reached max retries while trying to evict pods from nodes in node group "
                f"{ng.nodegroup_name}", ["i-" + uuid.uuid4().hex[:17]], undo)
    if duration(NODEGROUP_UPDATING) > 0:
        ng.status = "UPDATING"
    return {"update": start_update(cluster, scope, "VersionUpdate", [p for p in params if p[1]], apply,
                                   NODEGROUP_UPDATING, fail)}


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


# resolveConflicts: the same three values on CreateAddon ("Preserve - This is
# similar to the NONE option ... This option works differently during the update
# operation") and UpdateAddon:
# https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html
# https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html
RESOLVE_CONFLICTS = ("NONE", "OVERWRITE", "PRESERVE")


def check_resolve_conflicts(cluster, name, value):
    if value is not None and value not in RESOLVE_CONFLICTS:
        raise bad_param(f"Invalid resolveConflicts value: {value}. Valid values are "
                        f"{', '.join(RESOLVE_CONFLICTS)}.", clusterName=cluster.name, addonName=name)


def addon_pod_identities(call, cluster, name, wanted, owner=None):
    """CreateAddon/UpdateAddon podIdentityAssociations ([{serviceAccount,
    roleArn}], API_AddonPodIdentityAssociations.html), checked before anything
    changes: {serviceAccount: roleArn} in request order. A service account must
    be one of the add-on's podIdentityConfiguration; EKS's wording for one that
    is not: "Service account X in pod identity configuration is not supported
    for addon Y" (quoted in terraform-aws-modules/terraform-aws-eks#3520). Each
    role is checked as CreatePodIdentityAssociation checks it; a service account
    already associated, other than by this add-on (`owner`), is
    ResourceInUseException."""
    if not isinstance(wanted, list):
        raise bad_param("podIdentityAssociations must be a list.", clusterName=cluster.name, addonName=name)
    allowed = [sa for sa, _ in ADDON_POD_IDENTITY.get(name, [])]
    namespace, out = addon_namespace(name), {}
    for entry in wanted:
        sa, role = (entry or {}).get("serviceAccount"), (entry or {}).get("roleArn")
        if not sa or not role:
            raise bad_param("Each podIdentityAssociations entry needs serviceAccount and roleArn.",
                            clusterName=cluster.name, addonName=name)
        if sa not in allowed:
            raise bad_param(f"Service account {sa} in pod identity configuration is not supported for addon {name}",
                            clusterName=cluster.name, addonName=name)
        if sa in out:
            raise bad_param(f"Service account {sa} is listed more than once in podIdentityAssociations.",
                            clusterName=cluster.name, addonName=name)
        check_pod_identity_role(call, cluster, role)
        existing = find_association(cluster, namespace, sa)
        if existing is not None and (owner is None or existing.get("ownerArn") != owner):
            raise in_use(f"Association already exists: {existing['associationId']}",
                         clusterName=cluster.name, addonName=name)
        out[sa] = role
    return out


def sync_addon_associations(call, cluster, item, wanted):
    """Make the add-on's own associations (ownerArn = its ARN, in its namespace)
    exactly `wanted`: new service accounts get one, changed roles are updated,
    the rest are deleted ("when you specify pod identity associations while
    updating an add-on, all previous pod identity associations are overwritten":
    https://docs.aws.amazon.com/eks/latest/userguide/update-addon-role.html).
    DescribeAddon lists their ARNs (Addon.podIdentityAssociations)."""
    st, owner = state(cluster), item["addonArn"]
    owned = {a["serviceAccount"]: a for a in st.associations.values() if a.get("ownerArn") == owner}
    for sa, a in owned.items():
        if sa not in wanted:
            st.associations.pop(a["associationId"], None)
    arns = []
    for sa, role in wanted.items():
        a = owned.get(sa)
        if a is None:
            a = add_association(call, cluster, addon_namespace(item["addonName"]), sa, role, owner=owner)
        elif a["roleArn"] != role:
            a.update(roleArn=role, modifiedAt=time.time())
        arns.append(a["associationArn"])
    item["podIdentityAssociations"] = arns


def create_addon(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html
    (podIdentityAssociations: one add-on-owned association each, made at once)."""
    cluster = call.active_cluster()
    name = call.body.get("addonName")
    st = state(cluster)
    if name in st.addons:
        raise in_use("Addon already exists.", clusterName=cluster.name, addonName=name)
    version = check_addon_version(cluster, name, call.body.get("addonVersion"))
    check_resolve_conflicts(cluster, name, call.body.get("resolveConflicts"))
    wanted = {}
    if call.body.get("podIdentityAssociations") is not None:
        wanted = addon_pod_identities(call, cluster, name, call.body["podIdentityAssociations"])
    now = time.time()
    item = drop_none({
        "addonName": name, "clusterName": cluster.name, "status": "CREATING", "addonVersion": version,
        "health": {"issues": []}, "addonArn": call.arn("addon", cluster.name, name, str(uuid.uuid4())),
        "createdAt": now, "modifiedAt": now, "serviceAccountRoleArn": call.body.get("serviceAccountRoleArn"),
        "tags": call.body.get("tags") or {}, "publisher": "eks", "owner": "aws",
        "configurationValues": call.body.get("configurationValues"), "podIdentityAssociations": []})
    st.addons[name] = item
    sync_addon_associations(call, cluster, item, wanted)
    failure = take_failure("addon-create", name)

    def created():
        if failure:
            # https://docs.aws.amazon.com/eks/latest/APIReference/API_AddonIssue.html
            item.update(status="CREATE_FAILED", health={"issues": [{
                "code": "ConfigurationConflict", "message": failure.get("message") or
                f"Conflicts found when trying to apply. Will not continue due to resolve conflicts mode.",
                "resourceIds": [name]}]})
        else:
            item.update(status="ACTIVE")
            refresh_coredns(cluster)
    later(cluster, created, ADDON_CREATING)
    return {"addon": item}


def refresh_coredns(cluster):
    """coredns runs as a Deployment on the cluster's nodes: without an ACTIVE
    node group with desiredSize > 0 its replicas cannot be scheduled and EKS
    reports the add-on DEGRADED with InsufficientNumberOfReplicas
    (https://docs.aws.amazon.com/eks/latest/APIReference/API_AddonIssue.html,
    https://docs.aws.amazon.com/eks/latest/userguide/managing-coredns.html)."""
    item = state(cluster).addons.get("coredns")
    if item is None or item["status"] not in ("ACTIVE", "DEGRADED"):
        return
    if not realism.on("failures"):
        return
    has_nodes = any(ng.status == "ACTIVE" and int((ng.scaling_config or {}).get("desiredSize") or 0) > 0
                    for ng in cluster.nodegroups.values())
    if has_nodes and item["status"] == "DEGRADED":
        item.update(status="ACTIVE", health={"issues": []})
    elif not has_nodes and item["status"] == "ACTIVE":
        realism.injected("failures")
        item.update(status="DEGRADED", health={"issues": [{
            "code": "InsufficientNumberOfReplicas",
            "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
            "resourceIds": []}]})


def describe_addon(call):
    return {"addon": addon(call.cluster(), call.p["addonName"])}


def list_addons(call):
    names, token = page(list(state(call.cluster()).addons), call)
    return drop_none({"addons": names, "nextToken": token})


def update_addon(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateAddon.html.
    podIdentityAssociations: absent leaves the add-on's associations alone, a
    list replaces them ("If an empty array is provided, existing associations
    owned by the add-on are deleted"); the associations change at once, the
    Update carries them as its PodIdentityAssociations parameter (the JSON EKS
    puts there: hashicorp/terraform-provider-aws#30645)."""
    cluster = call.cluster()
    item = addon(cluster, call.p["addonName"])
    if item["status"] not in ("ACTIVE", "DEGRADED", "UPDATE_FAILED"):
        raise in_use(f"Addon {item['addonName']} is currently {item['status']} and cannot be updated",
                     clusterName=cluster.name, addonName=item["addonName"])
    check_resolve_conflicts(cluster, item["addonName"], call.body.get("resolveConflicts"))
    wanted = None
    if call.body.get("podIdentityAssociations") is not None:
        wanted = addon_pod_identities(call, cluster, item["addonName"], call.body["podIdentityAssociations"],
                                      owner=item["addonArn"])
    changes, params = {}, []
    for key, param in (("addonVersion", "AddonVersion"), ("serviceAccountRoleArn", "ServiceAccountRoleArn"),
                       ("resolveConflicts", "ResolveConflicts"), ("configurationValues", "ConfigurationValues")):
        if call.body.get(key) is not None:
            params.append((param, call.body[key]))
            if key != "resolveConflicts":
                changes[key] = call.body[key]
    if "addonVersion" in changes:
        check_addon_version(cluster, item["addonName"], changes["addonVersion"])
    if wanted is not None:
        namespace = addon_namespace(item["addonName"])
        params.append(("PodIdentityAssociations", json.dumps(
            [{"serviceAccount": sa, "roleArn": role, "namespace": namespace} for sa, role in wanted.items()],
            separators=(",", ":"))))
        sync_addon_associations(call, cluster, item, wanted)
    item["status"] = "UPDATING"

    def apply():
        item.update(changes, status="ACTIVE", modifiedAt=time.time())
        refresh_coredns(cluster)
    failure = take_failure("addon-update", item["addonName"])
    fail = None
    if failure:
        # A failed add-on update leaves the add-on ACTIVE at its old version and
        # configuration; DescribeUpdate shows Failed with errors:
        # https://docs.aws.amazon.com/eks/latest/APIReference/API_ErrorDetail.html
        def undo():
            item.update(status="ACTIVE")
            refresh_coredns(cluster)
        fail = ("ConfigurationConflict", failure.get("message") or
                "Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. "
                "Conflicts: ConfigMap " + item["addonName"] + " - .data",
                [item["addonName"]], undo)
    return {"update": start_update(cluster, ("addon", item["addonName"]), "AddonUpdate", params, apply,
                                   ADDON_UPDATING, fail)}


def delete_addon(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteAddon.html:
    DELETE /clusters/{name}/addons/{addonName}?preserve=true|false.
    `preserve` "preserves the add-on software on your cluster but Amazon EKS
    stops managing any settings for the add-on. If an IAM account is associated
    with the add-on, it isn't removed": the IAM role stays in IAM (the stand-in
    never deletes roles). The add-on's Pod Identity associations are removed
    with the add-on in both cases: they are settings EKS manages only through
    the add-on (https://docs.aws.amazon.com/eks/latest/userguide/add-ons-iam.html),
    and AWS's own add-on tooling relies on DeleteAddon removing them
    (aws/eks-hybrid#747: "When DeleteAddon is called, the association will be
    removed as part of add-on deletion")."""
    cluster = call.cluster()
    item = addon(cluster, call.p["addonName"])
    if call.arg("preserve") not in (None, "true", "false"):
        raise bad_param("preserve must be true or false.", clusterName=cluster.name, addonName=item["addonName"])
    item["status"] = "DELETING"

    def gone():
        st = state(cluster)
        st.addons.pop(item["addonName"], None)
        for a in [a for a in st.associations.values() if a.get("ownerArn") == item["addonArn"]]:
            st.associations.pop(a["associationId"], None)
    later(cluster, gone, ADDON_DELETING)
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
                             "requiresConfiguration": False, "requiresIamPermissions": name in ADDON_POD_IDENTITY})
        if rows:
            infos.append({"addonName": name, "type": kind, "addonVersions": rows,
                          "publisher": "eks", "owner": "aws", "defaultNamespace": addon_namespace(name)})
    found, token = page(infos, call)
    return drop_none({"addons": found, "nextToken": token})


def addon_configuration_schema(name):
    """The JSON schema (a string, as the API carries it) configurationValues follow."""
    return json.dumps({"$schema": "http://json-schema.org/draft-06/schema#", "title": name, "type": "object",
                       "additionalProperties": False,
                       "properties": {k: {"type": t} for k, t in ADDON_SCHEMA.get(name, {}).items()}})


def pod_identity_configuration(call, name):
    """An add-on's AddonPodIdentityConfiguration list, ARNs in the caller's partition."""
    return [{"serviceAccount": sa,
             "recommendedManagedPolicies": [p.replace("arn:aws:", f"arn:{call.partition}:", 1) for p in policies]}
            for sa, policies in ADDON_POD_IDENTITY.get(name, [])]


def describe_addon_configuration(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html:
    GET /addons/configuration-schemas?addonName=&addonVersion= (both required)
    -> {addonName, addonVersion, configurationSchema, podIdentityConfiguration}.
    The name and version "must match one of the names [versions] returned by
    DescribeAddonVersions": a missing parameter or a version that is not an
    add-on version at all is InvalidParameterException, an add-on or version
    not in the catalogue ResourceNotFoundException (both are listed errors)."""
    name, version = call.arg("addonName"), call.arg("addonVersion")
    if not name or not version:
        raise bad_param("addonName and addonVersion are required.", addonName=name)
    if not ADDON_VERSION_RE.match(version):
        raise bad_param("Addon version specified is not supported", addonName=name)
    if name not in ADDONS or version not in ADDONS[name][1]:
        raise not_found(f"Addon {name} with version {version} could not be found", addonName=name)
    return {"addonName": name, "addonVersion": version, "configurationSchema": addon_configuration_schema(name),
            "podIdentityConfiguration": pod_identity_configuration(call, name)}


def describe_cluster_versions(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeClusterVersions.html:
    versions in standard or extended support, newest first; includeAll adds
    the unsupported ones; clusterType, clusterVersions, defaultOnly and
    versionStatus (or its deprecated lowercase twin `status`) filter."""
    def flag(name):
        value = call.arg(name)
        if value not in (None, "true", "false"):
            raise bad_param(f"{name} must be true or false")
        return value == "true"
    try:
        size = int(call.arg("maxResults") or 100)
    except ValueError:
        size = 0
    if not 1 <= size <= 100:
        raise bad_param("maxResults must be between 1 and 100")
    status = call.arg("versionStatus")
    if status is not None and status not in ("UNSUPPORTED", "STANDARD_SUPPORT", "EXTENDED_SUPPORT"):
        raise bad_param(f"Invalid versionStatus: {status}")
    old_status = call.arg("status")
    if old_status is not None and old_status not in ("unsupported", "standard-support", "extended-support"):
        raise bad_param(f"Invalid status: {old_status}")
    cluster_type = call.arg("clusterType")
    wanted = call.query.get("clusterVersions")
    rows = [r for r in cluster_versions()
            if (flag("includeAll") or r["versionStatus"] != "UNSUPPORTED" or status == "UNSUPPORTED"
                or old_status == "unsupported")
            and (cluster_type is None or r["clusterType"] == cluster_type)
            and (not wanted or r["clusterVersion"] in wanted)
            and (not flag("defaultOnly") or r["defaultVersion"])
            and (status is None or r["versionStatus"] == status)
            and (old_status is None or r["status"] == old_status)]
    found, token = page(rows, call)
    return drop_none({"clusterVersions": found, "nextToken": token})


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


def caller_arn(call):
    """The caller's ARN as STS's GetCallerIdentity gives it (an assumed-role session's included)."""
    from moto.sts.models import sts_backends
    return sts_backends[call.account][call.partition].get_caller_identity(call.access_key, call.region)[1]


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
    lag = eks_role_error(call, b.get("principalArn"), "access-entry")
    if lag:
        raise lag
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


# ----- EKS Pod Identity associations ---------------------------------------------
# https://docs.aws.amazon.com/eks/latest/APIReference/API_PodIdentityAssociation.html
# One association per (namespace, service account) in a cluster; the role must
# exist in IAM and the caller needs iam:PassRole on it (extra_permissions);
# associations an add-on made (ownerArn = the add-on's ARN) are changed only
# through the add-on (CreateAddon/UpdateAddon podIdentityAssociations, DeleteAddon):
# https://docs.aws.amazon.com/eks/latest/userguide/add-ons-iam.html

ASSOCIATION_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# The trust policy EKS Pod Identity needs on the role:
# https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ("sts:AssumeRole", "sts:TagSession")


def association_id():
    """"a-" and 17 lowercase letters and digits, as EKS makes them (a-wchd88wxhg6ydvgyy)."""
    import secrets
    return "a-" + "".join(secrets.choice(ASSOCIATION_ID_ALPHABET) for _ in range(17))


def iam_role(call, arn):
    """The IAM role `arn` names in the caller's account (moto's IAM), or None."""
    from moto.iam.models import iam_backends
    key = role_key(arn)
    if key is None:
        return None
    try:
        return iam_backends[key[0]][call.partition].get_role_by_arn(arn)
    except Exception:  # moto's NotFoundException, or an account with no IAM yet
        return None


def trusts_pod_identity(role):
    """Whether the role's trust policy lets pods.eks.amazonaws.com AssumeRole and TagSession."""
    text = role.assume_role_policy_document or "{}"
    try:  # as sent, or URL-encoded as IAM's GetRole answers it
        doc = json.loads(text)
    except ValueError:
        try:
            doc = json.loads(unquote(text))
        except ValueError:
            return False
    statements = doc.get("Statement") or []
    allowed = set()
    for st in [statements] if isinstance(statements, dict) else statements:
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal") or {}
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if principal != "*" and POD_IDENTITY_PRINCIPAL not in services:
            continue
        actions = st.get("Action") or []
        allowed |= set([actions] if isinstance(actions, str) else actions)
    return bool({"*", "sts:*"} & allowed) or all(a in allowed for a in POD_IDENTITY_ACTIONS)


def check_pod_identity_role(call, cluster, arn):
    """EKS's checks of an association's roleArn, as CreatePodIdentityAssociation
    and UpdatePodIdentityAssociation answer them (InvalidParameterException).
    "Role provided in the request does not exist" is EKS's wording (also what
    IAM propagation produces: terraform-provider-aws retries on it,
    hashicorp/terraform-provider-aws#34717); "Trust policy of the role provided
    is invalid" for a role pods.eks.amazonaws.com may not assume (iam-checks)."""
    if not arn:
        raise bad_param("roleArn is required.", clusterName=cluster.name)
    role = iam_role(call, arn)
    if role is None or role_lagging(call, arn):
        raise bad_param("Role provided in the request does not exist", clusterName=cluster.name)
    if realism.on("iam-checks") and not trusts_pod_identity(role):
        realism.injected("iam-checks")
        raise bad_param("Trust policy of the role provided is invalid", clusterName=cluster.name)


def association(cluster, association_id):
    """The association by id: an id that is not 19 characters long is refused as
    EKS words it (InvalidParameterException), a well-formed unknown one is
    ResourceNotFoundException."""
    if len(association_id or "") != 19:
        raise bad_param("The parameter associationId should be 19 characters long.", clusterName=cluster.name)
    found = state(cluster).associations.get(association_id)
    if found is None:
        raise not_found(f"No Pod Identity Association found for ID: {association_id}",
                        clusterName=cluster.name)
    return found


def find_association(cluster, namespace, service_account):
    return next((a for a in state(cluster).associations.values()
                 if a["namespace"] == namespace and a["serviceAccount"] == service_account), None)


def add_association(call, cluster, namespace, service_account, role, tags=None, owner=None, extra=None):
    """Make an association (the caller has checked the role). One per
    (namespace, service account): a second is ResourceInUseException naming
    the existing one, as EKS words it ("Association already exists: a-...")."""
    existing = find_association(cluster, namespace, service_account)
    if existing is not None:
        raise in_use(f"Association already exists: {existing['associationId']}", clusterName=cluster.name)
    now = time.time()
    assoc_id = association_id()
    item = {"clusterName": cluster.name, "namespace": namespace, "serviceAccount": service_account,
            "roleArn": role, "associationArn": call.arn("podidentityassociation", cluster.name, assoc_id),
            "associationId": assoc_id, "tags": dict(tags or {}), "createdAt": now, "modifiedAt": now,
            "disableSessionTags": False}
    if owner:
        item["ownerArn"] = owner
    item.update(extra or {})
    state(cluster).associations[assoc_id] = item
    return item


def association_extras(call, current=None):
    """targetRoleArn (with the externalId EKS makes for it), disableSessionTags
    and policy from a Create/UpdatePodIdentityAssociation body."""
    b, extra = call.body, {}
    if "disableSessionTags" in b and b["disableSessionTags"] is not None:
        extra["disableSessionTags"] = bool(b["disableSessionTags"])
    if b.get("policy") is not None:
        extra["policy"] = b["policy"]
    if b.get("targetRoleArn") is not None:
        extra["targetRoleArn"] = b["targetRoleArn"]
        if not (current or {}).get("externalId"):
            extra["externalId"] = str(uuid.uuid4())
    return extra


def not_owned(cluster, item, verb):
    """Associations an add-on owns are managed through the add-on:
    https://docs.aws.amazon.com/eks/latest/userguide/add-ons-iam.html
    (InvalidRequestException; the wording is the stand-in's)."""
    owner = item.get("ownerArn")
    if owner:
        raise bad_request(f"Cannot {verb} Pod Identity Association {item['associationId']}: it is owned by "
                          f"{owner}. Use UpdateAddon or DeleteAddon to manage it.", clusterName=cluster.name)


def create_pod_identity_association(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_CreatePodIdentityAssociation.html:
    POST /clusters/{name}/pod-identity-associations {namespace, serviceAccount,
    roleArn, tags?, clientRequestToken?, targetRoleArn?, disableSessionTags?,
    policy?} -> {association}. A repeated clientRequestToken answers with the
    association it made (idempotency, as the parameter is documented)."""
    cluster = call.active_cluster()
    b, st = call.body, state(cluster)
    token = b.get("clientRequestToken")
    if token and st.tokens.get(token) in st.associations:
        return {"association": st.associations[st.tokens[token]]}
    for key in ("namespace", "serviceAccount"):
        if not b.get(key):
            raise bad_param(f"{key} is required.", clusterName=cluster.name)
    check_pod_identity_role(call, cluster, b.get("roleArn"))
    item = add_association(call, cluster, b["namespace"], b["serviceAccount"], b["roleArn"],
                           b.get("tags") or {}, extra=association_extras(call))
    if token:
        st.tokens[token] = item["associationId"]
    return {"association": item}


def describe_pod_identity_association(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribePodIdentityAssociation.html"""
    cluster = call.cluster()
    return {"association": association(cluster, call.p["associationId"])}


def list_pod_identity_associations(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_ListPodIdentityAssociations.html:
    summaries (PodIdentityAssociationSummary: no roleArn, times or tags),
    filtered by namespace and serviceAccount; maxResults 1..100."""
    cluster = call.cluster()
    size = call.arg("maxResults")
    if size is not None and (not size.isdigit() or not 1 <= int(size) <= 100):
        raise bad_param("maxResults must be between 1 and 100.", clusterName=cluster.name)
    namespace, account = call.arg("namespace"), call.arg("serviceAccount")
    keys = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")
    summaries = [{k: a[k] for k in keys if k in a} for a in state(cluster).associations.values()
                 if (namespace is None or a["namespace"] == namespace)
                 and (account is None or a["serviceAccount"] == account)]
    found, token = page(summaries, call)
    return drop_none({"associations": found, "nextToken": token})


def update_pod_identity_association(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdatePodIdentityAssociation.html:
    POST /clusters/{name}/pod-identity-associations/{associationId} {roleArn?,
    targetRoleArn?, disableSessionTags?, policy?} -> {association}. "You must
    change at least one of these"; namespace and service account stay."""
    cluster = call.cluster()
    item = association(cluster, call.p["associationId"])
    not_owned(cluster, item, "update")
    b = call.body
    if all(b.get(k) is None for k in ("roleArn", "targetRoleArn", "disableSessionTags", "policy")):
        raise bad_param("At least one of roleArn, targetRoleArn, disableSessionTags or policy must be "
                        "specified.", clusterName=cluster.name)
    if b.get("roleArn") is not None:
        check_pod_identity_role(call, cluster, b["roleArn"])
        item["roleArn"] = b["roleArn"]
    extra = association_extras(call, item)
    if extra.get("targetRoleArn") == "":  # an empty target role removes it
        extra.pop("targetRoleArn")
        item.pop("targetRoleArn", None)
        item.pop("externalId", None)
        extra.pop("externalId", None)
    item.update(extra, modifiedAt=time.time())
    return {"association": item}


def delete_pod_identity_association(call):
    """https://docs.aws.amazon.com/eks/latest/APIReference/API_DeletePodIdentityAssociation.html:
    DELETE /clusters/{name}/pod-identity-associations/{associationId} -> {association}."""
    cluster = call.cluster()
    item = association(cluster, call.p["associationId"])
    not_owned(cluster, item, "delete")
    state(cluster).associations.pop(item["associationId"])
    return {"association": item}


# ----- tags on what moto cannot tag -------------------------------------------

def tags(call):
    arn = call.p["resourceArn"]
    target = None
    for cluster in call.backend.clusters.values():
        st = state(cluster)
        for obj in list(cluster.nodegroups.values()) + list(cluster.fargate_profiles.values()):
            if arn in (getattr(obj, "arn", None), getattr(obj, "fargate_profile_arn", None)):
                target = obj.tags
        for item in list(st.addons.values()) + list(st.entries.values()) + list(st.associations.values()):
            if arn in (item.get("addonArn"), item.get("accessEntryArn"), item.get("associationArn")):
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
    ("GET", "clusters/{name}", describe_cluster),
    ("DELETE", "clusters/{name}", delete_cluster),
    ("GET", "clusters/{name}/node-groups", list_nodegroups),
    ("GET", "clusters/{name}/fargate-profiles", list_fargate_profiles),
    ("POST", "clusters/{name}/fargate-profiles", create_fargate_profile),
    ("GET", "clusters/{name}/node-groups/{nodegroupName}", describe_nodegroup),
    ("DELETE", "clusters/{name}/node-groups/{nodegroupName}", delete_nodegroup),
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
    ("GET", "addons/configuration-schemas", describe_addon_configuration),
    ("GET", "cluster-versions", describe_cluster_versions),
    ("POST", "clusters/{name}/access-entries", create_access_entry),
    ("GET", "clusters/{name}/access-entries", list_access_entries),
    ("GET", "clusters/{name}/access-entries/{principalArn}", describe_access_entry),
    ("POST", "clusters/{name}/access-entries/{principalArn}", update_access_entry),
    ("DELETE", "clusters/{name}/access-entries/{principalArn}", delete_access_entry),
    ("POST", "clusters/{name}/access-entries/{principalArn}/access-policies", associate_access_policy),
    ("GET", "clusters/{name}/access-entries/{principalArn}/access-policies", list_associated_access_policies),
    ("DELETE", "clusters/{name}/access-entries/{principalArn}/access-policies/{policyArn}",
     disassociate_access_policy),
    ("POST", "clusters/{name}/pod-identity-associations", create_pod_identity_association),
    ("GET", "clusters/{name}/pod-identity-associations", list_pod_identity_associations),
    ("GET", "clusters/{name}/pod-identity-associations/{associationId}", describe_pod_identity_association),
    ("POST", "clusters/{name}/pod-identity-associations/{associationId}", update_pod_identity_association),
    ("DELETE", "clusters/{name}/pod-identity-associations/{associationId}", delete_pod_identity_association),
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
    ("GET", r"/addons/configuration-schemas", "DescribeAddonConfiguration"),
    ("GET", r"/cluster-versions", "DescribeClusterVersions"),
    ("POST", r"/clusters/[^/]+/access-entries", "CreateAccessEntry"),
    ("GET", r"/clusters/[^/]+/access-entries", "ListAccessEntries"),
    ("GET", r"/clusters/[^/]+/access-entries/[^/]+", "DescribeAccessEntry"),
    ("POST", r"/clusters/[^/]+/access-entries/[^/]+", "UpdateAccessEntry"),
    ("DELETE", r"/clusters/[^/]+/access-entries/[^/]+", "DeleteAccessEntry"),
    ("POST", r"/clusters/[^/]+/access-entries/[^/]+/access-policies", "AssociateAccessPolicy"),
    ("GET", r"/clusters/[^/]+/access-entries/[^/]+/access-policies", "ListAssociatedAccessPolicies"),
    ("DELETE", r"/clusters/[^/]+/access-entries/[^/]+/access-policies/[^/]+", "DisassociateAccessPolicy"),
    ("POST", r"/clusters/[^/]+/pod-identity-associations", "CreatePodIdentityAssociation"),
    ("GET", r"/clusters/[^/]+/pod-identity-associations", "ListPodIdentityAssociations"),
    ("GET", r"/clusters/[^/]+/pod-identity-associations/[^/]+", "DescribePodIdentityAssociation"),
    ("POST", r"/clusters/[^/]+/pod-identity-associations/[^/]+", "UpdatePodIdentityAssociation"),
    ("DELETE", r"/clusters/[^/]+/pod-identity-associations/[^/]+", "DeletePodIdentityAssociation"),
    ("POST", r"/tags/.+", "TagResource"), ("DELETE", r"/tags/.+", "UntagResource"),
    ("GET", r"/tags/.+", "ListTagsForResource"),
]]

# moto's own EKS check fails every signature; eks_authorize() replaces it.
EKSResponse._authenticate_and_authorize_normal_action = lambda self, resource="*": None
# See the module docstring: moto's signature recomputation is Python-specific.
IAMRequest.check_signature = lambda self: None


def enforcing():
    """True once moto enforces IAM (after POST /moto-api/reset-auth)."""
    return ActionAuthenticatorMixin.request_count >= moto_settings.INITIAL_NO_AUTH_ACTION_COUNT


def check_permitted(environ, raw_path, account, service, action, resource):
    """Raise EKS's AccessDeniedException unless the caller may `service:action` on `resource`."""
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    if service != "eks":  # IAMRequest takes the service from the credential scope
        headers["Authorization"] = re.sub(r"(Credential=[^/\s,]+/\d{8}/[^/]+/)[^/]+/", rf"\g<1>{service}/",
                                          headers.get("Authorization", ""))
    try:
        IAMRequest(account_id=account, method=environ["REQUEST_METHOD"], path=raw_path, data={}, body=b"",
                   headers=headers, action=action).check_action_permitted(resource)
    except AccessDeniedError as err:
        raise EksError(403, "AccessDeniedException", err.message)
    except Exception as err:  # unknown access key and the like
        raise EksError(403, "UnrecognizedClientException", str(err))


def extra_permissions(environ, raw_path, call, operation):
    """iam-checks: what EKS itself needs from the caller beyond eks:<Operation>.

    * iam:PassRole on the cluster role / node role, condition
      iam:PassedToService eks.amazonaws.com:
      https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html and
      https://docs.aws.amazon.com/eks/latest/userguide/security-iam-id-based-policy-examples.html
      (moto's policy evaluation does not evaluate conditions: a PassRole
      allowed with any condition counts as allowed).
    * iam:CreateServiceLinkedRole the first time in an account (EKS creates
      AWSServiceRoleForAmazonEKS on the first CreateCluster and
      AWSServiceRoleForAmazonEKSNodegroup on the first CreateNodegroup):
      https://docs.aws.amazon.com/eks/latest/userguide/using-service-linked-roles-eks.html
      https://docs.aws.amazon.com/eks/latest/userguide/using-service-linked-roles-eks-nodegroups.html
    * kms:DescribeKey and kms:CreateGrant on the key of encryptionConfig:
      https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html
    * iam:PassRole on the role of a Pod Identity association, made directly or
      by CreateAddon/UpdateAddon podIdentityAssociations ("The IAM principal
      that is creating the association must have iam:PassRole":
      https://docs.aws.amazon.com/eks/latest/userguide/pod-id-association.html;
      condition iam:PassedToService pods.eks.amazonaws.com, not evaluated here).
    """
    if not realism.on("iam-checks"):
        return
    body, account = call.body, call.account
    pod_roles = []
    if operation in ("CreatePodIdentityAssociation", "UpdatePodIdentityAssociation"):
        pod_roles = [body.get("roleArn")]
    elif operation in ("CreateAddon", "UpdateAddon"):
        pod_roles = [a.get("roleArn") for a in body.get("podIdentityAssociations") or [] if isinstance(a, dict)]
    for role in pod_roles:
        if role:
            realism.injected("iam-checks")
            check_permitted(environ, raw_path, account, "iam", "PassRole", role)
    if operation not in ("CreateCluster", "CreateNodegroup"):
        return
    role = body.get("roleArn") if operation == "CreateCluster" else body.get("nodeRole")
    if role:
        realism.injected("iam-checks")
        check_permitted(environ, raw_path, account, "iam", "PassRole", role)
    if operation == "CreateCluster":
        slr = ("eks.amazonaws.com", "AWSServiceRoleForAmazonEKS")
    else:
        slr = ("eks-nodegroup.amazonaws.com", "AWSServiceRoleForAmazonEKSNodegroup")
    if (account, slr[1]) not in SLR_SEEN:
        realism.injected("iam-checks")
        check_permitted(environ, raw_path, account, "iam", "CreateServiceLinkedRole",
                        f"arn:{call.partition}:iam::{account}:role/aws-service-role/{slr[0]}/{slr[1]}")
        SLR_SEEN.add((account, slr[1]))
    for config in body.get("encryptionConfig") or [] if operation == "CreateCluster" else []:
        key = (config.get("provider") or {}).get("keyArn")
        if key:
            realism.injected("iam-checks")
            for action in ("DescribeKey", "CreateGrant"):
                check_permitted(environ, raw_path, account, "kms", action, key)


def eks_operation(method, raw_path):
    return next((op for m, rx, op in EKS_OPERATIONS if m == method and rx.fullmatch(raw_path)), None)


def eks_authorize(environ, raw_path, call):
    """None if the caller may make this EKS call, else the EksError to answer."""
    if not enforcing():
        ActionAuthenticatorMixin.request_count += 1
        return None
    method = environ["REQUEST_METHOD"]
    operation = eks_operation(method, raw_path)
    if operation is None:
        return bad_request(f"unknown EKS operation {method} {raw_path}")
    try:
        check_permitted(environ, raw_path, call.account, "eks", operation, "*")
        extra_permissions(environ, raw_path, call, operation)
    except EksError as err:
        return err
    return None


def json_answer(start_response, data, status=200):
    body = json.dumps(data, default=str).encode()
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def reply(start_response, result):
    status, headers, body = result
    if not any(h[0].lower() == "x-amzn-requestid" for h in headers):
        headers = headers + [("x-amzn-RequestId", str(uuid.uuid4()))]
    headers = [h for h in headers if h[0].lower() != "content-length"] + [("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


# ----- S3 bucket policies: the aws:SecureTransport condition ---------------------
# moto evaluates bucket policies "without conditions", so a statement that
# denies requests without TLS denies every request. AWS applies it only to
# requests that came without TLS: aws:SecureTransport "is a Boolean value
# that represents whether the request was sent using TLS"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport).
# Terragrunt's S3 bootstrap writes exactly such a statement (EnforcedTLS).
# Statements with other condition keys keep moto's behaviour.

REQUEST = threading.local()  # .secure: whether the current request came over TLS


def statement_applies(statement):
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, expected in conditions.items():
            if operator == "Bool" and key.lower() == "aws:securetransport":
                values = expected if isinstance(expected, list) else [expected]
                secure = str(bool(getattr(REQUEST, "secure", False))).lower()
                if secure not in [str(v).lower() for v in values]:
                    return False
    return True


def install_secure_transport_condition():
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy.decode())
        statements = policy.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        policy["Statement"] = [st for st in statements if statement_applies(st)]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


install_secure_transport_condition()


# ----- the Kubernetes API of a stand-in cluster (#15) ------------------------------
# A real kube-apiserver (tools/kube_stand.py) can be attached to a stand-in cluster:
# DescribeCluster then reports its endpoint and CA, and the API server asks the
# two webhooks below who a bearer token is and what it may do, as EKS's own
# authenticator and authorizer do:
#   POST /moto-fleet/kubernetes/REGION/CLUSTER   {"endpoint", "certificate_authority_data"}
#        (DELETE detaches; moto's reset forgets it with the cluster; before the cluster
#        exists it waits, and CreateCluster of that name attaches it)
#   POST /moto-fleet/kubernetes/REGION/CLUSTER/token-review            TokenReview
#   POST /moto-fleet/kubernetes/REGION/CLUSTER/subject-access-review   SubjectAccessReview
# Webhook shapes: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#webhook-token-authentication
# and https://kubernetes.io/docs/reference/access-authn-authz/webhook/ ; principals map
# to access entries as in https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html

KUBE_RE = re.compile(r"^/moto-fleet/kubernetes/([a-z0-9-]+)/([A-Za-z0-9][A-Za-z0-9_-]*)(/token-review|/subject-access-review)?$")
TOKEN_PREFIX = "k8s-aws-v1."
TOKEN_MAX_AGE = 15 * 60  # EKS accepts a token for 15 minutes whatever X-Amz-Expires says
STS_HOST_RE = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
# The only query parameters aws-iam-authenticator lets through (pkg/token/token.go).
TOKEN_PARAMS = {"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
                "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders"}
ASSUMED_ROLE_RE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def kube_cluster(region, name, account=None):
    """The stand-in's cluster REGION/NAME (in ACCOUNT, or the one account that has it)."""
    found = []
    for acct, per_region in dict.items(eks_backends):
        backend = dict.get(per_region, region)
        if backend is not None and name in backend.clusters and account in (None, acct):
            found.append(backend.clusters[name])
    return found[0] if len(found) == 1 else None


def attach_kube(cluster, body):
    """Point DescribeCluster's endpoint and certificateAuthority.data at a real API server."""
    st = state(cluster)
    if "kube_original" not in st.__dict__:
        st.kube_original = (cluster.endpoint, dict(cluster.certificate_authority))
    cluster.endpoint = body["endpoint"]
    cluster.certificate_authority = {"data": body["certificate_authority_data"]}


# API servers waiting for their cluster: (region, name, account or None) -> attach body.
# A test stand starts before the apply that creates its cluster (a hub and the Secrets
# written into it in one run); CreateCluster attaches it, as EKS's endpoint exists
# from the cluster's creation on.
KUBE_PENDING = {}


def attach_pending_kube(cluster, region, account):
    body = KUBE_PENDING.get((region, cluster.name, account)) or KUBE_PENDING.get((region, cluster.name, None))
    if body:
        attach_kube(cluster, body)


def detach_kube(cluster):
    st = state(cluster)
    if "kube_original" in st.__dict__:
        cluster.endpoint, cluster.certificate_authority = st.__dict__.pop("kube_original")


def sts_secret(access_key):
    """(account, secret, session token or None) moto issued for ACCESS_KEY, or None:
    an assumed role's temporary keys or an IAM user's access key."""
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.sts.models import sts_backends
    account = get_account_id_from(access_key)
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        role = sts_backends[account][partition].get_assumed_role_from_access_key(access_key)
        if role:
            return account, role.secret_access_key, role.session_token
        user = iam_backends[account][partition].get_user_from_access_key_id(access_key)
        if user:
            key = next(k for k in user.access_keys if k.access_key_id == access_key)
            return account, key.secret_access_key, None
    return None


def presigned_signature(environ, params, secret):
    """SigV4 query-string signature of the request as received, the way STS checks it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)."""
    import hashlib
    import hmac
    from urllib.parse import quote

    def enc(s):
        return quote(s, safe="-_.~")
    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params) if k != "X-Amz-Signature")
    signed = dict(params)["X-Amz-SignedHeaders"].split(";")
    headers = "".join(f"{h}:{' '.join(environ.get('HTTP_' + h.upper().replace('-', '_'), '').split())}\n"
                      for h in signed)
    _, day, region, service, _ = dict(params)["X-Amz-Credential"].split("/")
    path = quote(unquote(environ.get("PATH_INFO") or "/"), safe="/~")
    answers = []
    # A presigned GET has no body: botocore and the Go SDKs sign the empty body's
    # hash, other signers UNSIGNED-PAYLOAD; both are accepted.
    for payload in (EMPTY_SHA256, "UNSIGNED-PAYLOAD"):
        canonical = "\n".join([environ["REQUEST_METHOD"], path, query, headers, ";".join(signed), payload])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", dict(params)["X-Amz-Date"], f"{day}/{region}/{service}/aws4_request",
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = ("AWS4" + secret).encode()
        for part in (day, region, service, "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        answers.append(hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest())
    return answers


def sts_error(start_response, status, code, message):
    body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]


def presigned_sts(environ, start_response, app):
    """A presigned (query-string SigV4) STS request, as in an EKS token. moto 5.2.5 takes
    the caller only from an Authorization header or SigV2's AWSAccessKeyId, so it
    would answer for a default identity, and it checks no signature. Here the signature
    is checked as STS does (the secret moto issued; the session token must match),
    then the request goes to moto with the same credentials as an Authorization header."""
    from urllib.parse import parse_qsl
    params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    p = dict(params)
    try:
        key_id = p["X-Amz-Credential"].split("/")[0]
        found = sts_secret(key_id)
        if found is None:
            return sts_error(start_response, 403, "InvalidClientTokenId",
                             "The security token included in the request is invalid.")
        _, secret, token = found
        if token is not None and p.get("X-Amz-Security-Token") != token:
            return sts_error(start_response, 403, "InvalidClientTokenId",
                             "The security token included in the request is invalid.")
        if p.get("X-Amz-Signature") not in presigned_signature(environ, params, secret):
            return sts_error(start_response, 403, "SignatureDoesNotMatch",
                             "The request signature we calculated does not match the signature you provided. "
                             "Check your AWS Secret Access Key and signing method.")
    except (KeyError, ValueError):
        return sts_error(start_response, 400, "IncompleteSignature", "The request signature is incomplete.")
    environ["HTTP_AUTHORIZATION"] = (f"AWS4-HMAC-SHA256 Credential={p['X-Amz-Credential']}, "
                                     f"SignedHeaders={p['X-Amz-SignedHeaders']}, Signature={p['X-Amz-Signature']}")
    return app(environ, start_response)


def caller_of_token(token, cluster_name):
    """What aws-iam-authenticator does with a bearer token: (GetCallerIdentity's Arn,
    UserId, access key id) or raises ValueError with the reason it is refused.
    https://docs.aws.amazon.com/eks/latest/userguide/cluster-auth.html"""
    import base64
    import datetime
    import urllib.error
    import urllib.request
    from urllib.parse import parse_qsl, urlsplit
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("token is not of type k8s-aws-v1")
    raw = token[len(TOKEN_PREFIX):]
    try:
        url = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except ValueError:
        raise ValueError("token is not base64url")
    parts = urlsplit(url)
    if parts.scheme != "https" or not STS_HOST_RE.match(parts.hostname or "") or parts.path not in ("", "/"):
        raise ValueError(f"unexpected STS endpoint in token: {parts.scheme}://{parts.netloc}{parts.path}")
    params = parse_qsl(parts.query, keep_blank_values=True)
    p = {k.lower(): v for k, v in params}
    bad = [k for k, _ in params if k.lower() not in TOKEN_PARAMS]
    if bad:
        raise ValueError(f"non-whitelisted query parameter {bad[0]!r}")
    if p.get("action") != "GetCallerIdentity" or p.get("version") != "2011-06-15":
        raise ValueError("token is not a presigned GetCallerIdentity call")
    if "x-k8s-aws-id" not in p.get("x-amz-signedheaders", "").split(";"):
        raise ValueError("client did not sign the x-k8s-aws-id header in the pre-signed URL")
    try:
        signed_at = datetime.datetime.strptime(p.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        raise ValueError("X-Amz-Date is missing or malformed")
    if time.time() - signed_at > TOKEN_MAX_AGE:
        raise ValueError("token is expired (signed more than 15 minutes ago)")
    # Executed against this same server on loopback: the Host header as signed, the
    # cluster's name in x-k8s-aws-id (a token for another cluster no longer matches its signature).
    port = os.environ.get("MOTO_PORT", "5000")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/?{parts.query}",
                                     headers={"Host": parts.netloc, "x-k8s-aws-id": cluster_name})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            xml = answer.read().decode()
    except urllib.error.HTTPError as err:
        body = err.read().decode(errors="replace")
        code = re.search(r"<Code>([^<]*)</Code>", body)
        raise ValueError(f"sts getCallerIdentity failed: {err.code} {code.group(1) if code else body[:200]}")

    def field(name):
        m = re.search(rf"<{name}>([^<]*)</{name}>", xml)
        return m.group(1) if m else ""
    return field("Arn"), field("UserId"), p["x-amz-credential"].split("/")[0]


def principal_of(arn):
    """The IAM principal of a caller ARN, as access entries name it: an assumed role's
    session ARN becomes the role's ARN, with the role's path looked up in IAM (the
    session ARN carries none). Returns (principal ARN, session name or "")."""
    m = ASSUMED_ROLE_RE.match(arn)
    if not m:
        return arn, ""
    partition, account, name, session = m.groups()
    from moto.iam.models import iam_backends
    try:
        return iam_backends[account][partition].get_role(name).arn, session
    except Exception:  # no such role (any more): the ARN without a path
        return f"arn:{partition}:iam::{account}:role/{name}", session


def token_review(cluster, review):
    """A TokenReview answered as EKS's authenticator does (authentication.k8s.io/v1)."""
    def answer(status):
        return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}
    token = ((review.get("spec") or {}).get("token")) or ""
    try:
        arn, user_id, access_key = caller_of_token(token, cluster.name)
    except ValueError as err:
        return answer({"authenticated": False, "error": str(err)})
    principal, session = principal_of(arn)
    with LOCK:
        entry_ = dict(state(cluster).entries.get(principal) or {})
    if not entry_:
        return answer({"authenticated": False,
                       "error": f"no access entry for {principal} on cluster {cluster.name}"})
    account = arn.split(":")[4]
    # Username templates as aws-iam-authenticator expands them (SessionName with @ as -).
    username = (entry_["username"].replace("{{SessionName}}", session.replace("@", "-"))
                .replace("{{SessionNameRaw}}", session).replace("{{AccountID}}", account))
    canonical = re.sub(r":role/.*/", ":role/", principal) if ":role/" in principal else principal
    # The user EKS reports (seen in its audit logs): uid aws-iam-authenticator:ACCOUNT:ID,
    # extra arn, canonicalArn (without the role's path), sessionName, accessKeyId, principalId.
    return answer({"authenticated": True, "user": {
        "username": username,
        "uid": f"aws-iam-authenticator:{account}:{user_id.split(':')[0]}",
        "groups": list(entry_["kubernetesGroups"]),
        "extra": {"arn": [arn], "canonicalArn": [canonical], "sessionName": [session],
                  "accessKeyId": [access_key], "principalId": [user_id]}}})


# The access policies EKS documents, as (verbs, resources not granted, API groups not
# granted, non-resource URLs too), "*" for any verb:
# https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
# ClusterAdmin is cluster-admin; Admin, Edit and View follow Kubernetes' admin, edit and
# view roles (Edit: not Roles/RoleBindings; View: reads, not Secrets); AdminView reads
# everything. Simplified: the exact resource lists are not modelled, and a scope of
# type "namespace" grants requests in those namespaces only.
READ = {"get", "list", "watch"}
ACCESS_POLICIES = {
    "AmazonEKSClusterAdminPolicy": ("*", set(), set(), True),
    "AmazonEKSAdminPolicy": ("*", set(), set(), False),
    "AmazonEKSEditPolicy": ("*", set(), {"rbac.authorization.k8s.io"}, False),
    "AmazonEKSViewPolicy": (READ, {"secrets"}, set(), False),
    "AmazonEKSAdminViewPolicy": (READ, set(), set(), False),
}


def policy_allows(name, scope, attrs):
    rule = ACCESS_POLICIES.get(name)
    if rule is None or attrs is None:
        return False
    verbs, no_resources, no_groups, non_resource = rule
    if attrs.get("nonResource"):
        return non_resource
    if scope.get("type") == "namespace" and (attrs.get("namespace") or "") not in (scope.get("namespaces") or []):
        return False
    return ((verbs == "*" or attrs.get("verb") in verbs) and attrs.get("resource") not in no_resources
            and attrs.get("group", "") not in no_groups)


def subject_access_review(cluster, review):
    """A SubjectAccessReview answered from the access policies of the user's access
    entry (authorization.k8s.io/v1). No allowing policy: allowed=false without
    denied, i.e. no opinion, so RBAC may still allow it, as on EKS."""
    spec = review.get("spec") or {}
    attrs = spec.get("resourceAttributes")
    if attrs is None and spec.get("nonResourceAttributes") is not None:
        attrs = dict(spec["nonResourceAttributes"], nonResource=True)
    arns = (spec.get("extra") or {}).get("arn") or []
    allowed, reason = False, "no access entry for this user"
    if arns:
        principal, _ = principal_of(arns[0])
        with LOCK:
            policies = dict(state(cluster).policies.get(principal) or {})
            has_entry = principal in state(cluster).entries
        if has_entry:
            reason = "no associated access policy allows this"
            for arn, item in policies.items():
                name = arn.rsplit("/", 1)[-1]
                if policy_allows(name, item["accessScope"], attrs):
                    allowed, reason = True, f"allowed by {name} ({item['accessScope']['type']} scope)"
                    break
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "status": {"allowed": allowed, "reason": reason}}


def kubernetes_control(start_response, method, path, body, query):
    m = KUBE_RE.match(path)
    if not m:
        return json_answer(start_response, {"error": f"no such endpoint: {method} {path}"}, 404)
    region, name, hook = m.groups()
    with LOCK:
        cluster = kube_cluster(region, name, (query.get("account") or [None])[0])
    if cluster is None and not hook and method == "POST":
        if not body.get("endpoint") or not body.get("certificate_authority_data"):
            return json_answer(start_response, {"error": "endpoint and certificate_authority_data are required"}, 400)
        with LOCK:
            KUBE_PENDING[(region, name, (query.get("account") or [None])[0])] = dict(body)
        return json_answer(start_response, {"endpoint": None, "pending": True})
    if cluster is None:
        return json_answer(start_response, {"error": f"no cluster {name} in {region}"}, 404)
    if hook and method == "POST":
        review = token_review if hook == "/token-review" else subject_access_review
        return json_answer(start_response, review(cluster, body))
    if not hook and method == "POST":
        if not body.get("endpoint") or not body.get("certificate_authority_data"):
            return json_answer(start_response, {"error": "endpoint and certificate_authority_data are required"}, 400)
        with LOCK:
            attach_kube(cluster, body)
            KUBE_PENDING[(region, name, (query.get("account") or [None])[0])] = dict(body)
        return json_answer(start_response, {"endpoint": cluster.endpoint})
    if not hook and method == "DELETE":
        with LOCK:
            detach_kube(cluster)
            KUBE_PENDING.pop((region, name, (query.get("account") or [None])[0]), None)
        return json_answer(start_response, {"endpoint": cluster.endpoint})
    return json_answer(start_response, {"error": f"{method} not allowed on {path}"}, 405)


class FleetMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        REQUEST.secure = environ.get("wsgi.url_scheme") == "https"
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-fleet/"):
            return self.control(environ, start_response, path)
        if (not environ.get("HTTP_AUTHORIZATION") and "X-Amz-Credential=" in environ.get("QUERY_STRING", "")
                and "/sts/aws4_request" in unquote(environ.get("QUERY_STRING", ""))):
            return presigned_sts(environ, start_response, self.app)
        if path.rstrip("/") == "/moto-api/reset" and environ["REQUEST_METHOD"] == "POST":
            with LOCK:  # moto forgets every resource: so does the stand-in's own state
                for table in (ROLE_CHANGES, ROLES_CREATED, NODE_ROLES_RELEASED, SLR_SEEN, FAIL_NEXT, GLOBAL_PENDING, DELETED_QUEUES,
                              KUBE_PENDING):
                    table.clear()
                CLUSTER_VERSIONS[:] = calendar_rows()
                lost_responses.reset()
        with LOCK:
            settle_global()
        scope = SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(3) if scope else None
        if scope:
            with LOCK:
                REQUEST_LOG.append({"key": scope.group(1), "region": scope.group(2), "service": service})
        if service == "ec2" and getattr(strict_ec2, "handle", None):
            return strict_ec2.handle(environ, start_response, self.app)
        if service == "iam":
            return self.iam(environ, start_response)
        if service == "logs" and environ.get("HTTP_X_AMZ_TARGET", "").endswith(".DeleteLogGroup"):
            return self.delete_log_group(environ, start_response, scope.group(2))
        if service == "sqs" and environ.get("HTTP_X_AMZ_TARGET", "").endswith((".CreateQueue", ".DeleteQueue")):
            return self.sqs(environ, start_response, scope.group(2))
        if service != "eks":
            return self.app(environ, start_response)
        raw = (environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "")).split("?")[0]
        found = match(environ["REQUEST_METHOD"], raw)
        with LOCK:
            try:
                call = Call(self.app, environ, scope.group(1), scope.group(2), found[1] if found else {})
            except KeyError:  # a region moto has no EKS backend for: moto's answer
                return self.app(environ, start_response)
            settle(call.backend)
            try:
                denied = eks_authorize(environ, raw, call)
                if denied:
                    raise denied
                result = found[0](call) if found else call.moto()
                if isinstance(result, dict):
                    result = ("200 OK", [("Content-Type", "application/json")], json.dumps(result).encode())
            except EksError as err:
                headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", err.kind)]
                result = (f"{err.status} {HTTPStatus(err.status).phrase}", headers, json.dumps(err.body).encode())
        if lost_responses.take("eks", eks_operation(environ["REQUEST_METHOD"], raw) or ""):
            return lost_responses.drop_connection(environ, start_response)
        return reply(start_response, result)

    def iam(self, environ, start_response):
        """IAM (query protocol): DeleteRole conflicts moto lacks, role changes
        remembered for iam-lag, trust policies losing a deleted role, OIDC
        provider thumbprints, lost responses."""
        raw = read_body(environ)
        form = parse_qs(raw.decode("utf-8", "replace")) if raw else {}
        form.update({k: v for k, v in parse_qs(environ.get("QUERY_STRING", "")).items() if k not in form})
        action = (form.get("Action") or [""])[0]
        signing_key, account = caller(environ)
        with LOCK:
            refused = iam_refusal(account, signing_key, action, form)
            if refused:
                result = iam_error(*refused)
            else:
                deleted = role_identity(account, form) if action == "DeleteRole" else None
                result = forward(self.app, environ)
                if result[0].startswith("200"):
                    record_iam(account, action, form)
                    if deleted:
                        orphan_trust_principals(account, *deleted)
                    fill_oidc_thumbprint(account, action, form, result[2])
        if lost_responses.take("iam", action):
            return lost_responses.drop_connection(environ, start_response)
        status, headers, body = result
        headers = [h for h in headers if h[0].lower() != "content-length"] + [("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    def delete_log_group(self, environ, start_response, region):
        """moto's DeleteLogGroup keeps the group's tags, so a group made
        again under the name shows them; in AWS tags go with the group."""
        from moto.logs.models import logs_backends
        try:
            name = json.loads(read_body(environ) or b"{}").get("logGroupName")
        except ValueError:
            name = None
        _, account = caller(environ)
        with LOCK:
            backend = logs_backends[account][region]
            group = backend.groups.get(name) if name else None
            status, headers, body = forward(self.app, environ)
            if group is not None and status.startswith("200"):
                backend.tagger.delete_all_tags_for_resource(group.arn)
        headers = [h for h in headers if h[0].lower() != "content-length"] + [("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    def sqs(self, environ, start_response, region):
        """SQS (JSON protocol): a queue deleted less than 60 seconds ago
        keeps its name from CreateQueue, as SQS does; moto frees it at once."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        body = read_body(environ)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        _, account = caller(environ)
        with LOCK:
            now = time.time()
            if target.endswith(".CreateQueue"):
                key = (account, region, request.get("QueueName"))
                if DELETED_QUEUES.get(key, 0) > now:
                    realism.injected("durations")
                    message = ("You must wait 60 seconds after deleting a queue before you can create "
                               "another with the same name.")
                    payload = json.dumps({"__type": "com.amazonaws.sqs#QueueDeletedRecently",
                                          "message": message}).encode()
                    headers = [("Content-Type", "application/x-amz-json-1.0"),
                               ("x-amzn-query-error", "AWS.SimpleQueueService.QueueDeletedRecently;Sender"),
                               ("Content-Length", str(len(payload)))]
                    start_response("400 Bad Request", headers)
                    return [payload]
            status, headers, data = forward(self.app, environ)
            if target.endswith(".DeleteQueue") and status.startswith("200") and realism.on("durations"):
                name = str(request.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
                DELETED_QUEUES[(account, region, name)] = now + realism.seconds(QUEUE_NAME_RESERVED)
        headers = [h for h in headers if h[0].lower() != "content-length"] + [("Content-Length", str(len(data)))]
        start_response(status, headers)
        return [data]

    def control(self, environ, start_response, path):
        """/moto-fleet/... : the stand-in's own endpoints (see realism.py)."""
        method = environ["REQUEST_METHOD"]
        try:
            body = json.loads(read_body(environ) or b"{}")
        except ValueError:
            return json_answer(start_response, {"error": "body is not JSON"}, 400)
        path = path.rstrip("/")
        if path == "/moto-fleet/realism" and method == "GET":
            return json_answer(start_response, realism.report())
        if path == "/moto-fleet/realism/reset" and method == "POST":
            realism.reset_counts()
            return json_answer(start_response, {"status": "ok"})
        if path == "/moto-fleet/fail-next" and method == "POST":
            if str(body.get("kind", "")).startswith(("nat", "peering")) and getattr(strict_ec2, "fail_next", None):
                with LOCK:
                    return json_answer(start_response, strict_ec2.fail_next(body) or {"status": "ok"})
            if body.get("kind") not in FAIL_KINDS:
                return json_answer(start_response, {"error": f"kind must be one of {FAIL_KINDS}"}, 400)
            with LOCK:
                FAIL_NEXT.append({"kind": body["kind"], "name": body.get("name"), "message": body.get("message")})
                return json_answer(start_response, {"armed": list(FAIL_NEXT)})
        if path == "/moto-fleet/lose-responses" and method == "POST":
            if not body.get("service") or not body.get("action"):
                return json_answer(start_response, {"error": "service and action are required"}, 400)
            lost_responses.arm(body["service"], body["action"], int(body.get("count", 1)))
            return json_answer(start_response, {"armed": lost_responses.armed()})
        if path == "/moto-fleet/cluster-versions":
            return self.cluster_versions(start_response, method, body)
        if path == "/moto-fleet/requests" and method == "GET":
            with LOCK:
                return json_answer(start_response, {"requests": list(REQUEST_LOG)})
        if path == "/moto-fleet/requests/reset" and method == "POST":
            with LOCK:
                REQUEST_LOG.clear()
            return json_answer(start_response, {"status": "ok"})
        if path.startswith("/moto-fleet/kubernetes/"):
            return kubernetes_control(start_response, method, path, body, parse_qs(environ.get("QUERY_STRING", "")))
        if path == "/moto-fleet/leftovers" and method == "POST":
            if not getattr(strict_ec2, "leftovers", None):
                return json_answer(start_response, {"error": "tools/strict_ec2.py is not available"}, 501)
            with LOCK:
                return json_answer(start_response, strict_ec2.leftovers(body))
        return json_answer(start_response, {"error": f"no such endpoint: {method} {path}"}, 404)


    def cluster_versions(self, start_response, method, body):
        """GET: the table with today's statuses. POST {"versions": [...]}
        replaces it, {"add": [...]} adds or replaces rows by clusterVersion,
        {"reset": true} restores the calendar. Rows: clusterVersion,
        releaseDate, endOfStandardSupportDate, endOfExtendedSupportDate
        ("YYYY-MM-DD" or epoch seconds), optionally kubernetesPatchVersion,
        defaultPlatformVersion, defaultVersion, clusterType."""
        if method == "POST":
            try:
                with LOCK:
                    if body.get("reset"):
                        CLUSTER_VERSIONS[:] = calendar_rows()
                    if "versions" in body:
                        CLUSTER_VERSIONS[:] = [version_row(v) for v in body["versions"]]
                    for row in [version_row(v) for v in body.get("add", [])]:
                        CLUSTER_VERSIONS[:] = [r for r in CLUSTER_VERSIONS
                                               if r["clusterVersion"] != row["clusterVersion"]] + [row]
            except (KeyError, TypeError, ValueError) as err:
                return json_answer(start_response, {"error": f"bad version row: {err}"}, 400)
        elif method != "GET":
            return json_answer(start_response, {"error": "GET or POST"}, 405)
        with LOCK:
            return json_answer(start_response, {"clusterVersions": cluster_versions()})


def ec2_backend(call):
    from moto.ec2.models import ec2_backends
    return ec2_backends[call.account][call.region]


def self_signed_certificate(cert_path):
    """A key and a one-day certificate for 127.0.0.1/localhost; the PEM
    certificate at cert_path, the key next to it. Returns both paths."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "moto-fleet loopback")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path = cert_path + ".key"
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def main(argv=None):
    # Same options and start-up as moto.server.main, with our middleware in front.
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    parser.add_argument("-s", "--ssl", action="store_true")
    parser.add_argument("-c", "--ssl-cert")
    parser.add_argument("-k", "--ssl-key")
    parser.add_argument("--tls-port", type=int, help="also serve HTTPS on this port")
    parser.add_argument("--tls-cert-out", help="where to write the HTTPS listener's certificate (PEM)")
    args = parser.parse_args(argv)
    if args.tls_port and not args.tls_cert_out:
        parser.error("--tls-port needs --tls-cert-out")
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs from it
    try:
        signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    except ValueError:
        pass
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True
    ssl = (args.ssl_cert, args.ssl_key) if args.ssl_cert and args.ssl_key else ("adhoc" if args.ssl else None)
    if args.tls_port:
        cert, key = self_signed_certificate(args.tls_cert_out)
        tls = make_server(args.host, args.tls_port, FleetMiddleware(moto_app), threaded=True,
                          ssl_context=(cert, key), request_handler=MotoRequestHandler)
        threading.Thread(target=tls.serve_forever, daemon=True).start()
    run_simple(args.host, args.port, FleetMiddleware(moto_app), threaded=True,
               ssl_context=ssl, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
