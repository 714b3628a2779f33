"""The stand-in's AWS behaviours that moto does not model: which are on, how
fast time runs, and what was injected.

    MOTO_FLEET_REALISM   comma list of behaviour names, `all` or `none`, with
                         `-name` to take one away: `all,-iam-lag`. Default: all.
    MOTO_FLEET_TIME_SCALE  factor applied to every AWS duration the stand-in
                         reproduces (real seconds x scale). Default 0.01: a
                         10-minute cluster creation takes 6 s.

Behaviour names (each documented where it is implemented):

    iam-lag        IAM propagation after CreateRole/AttachRolePolicy/PutRolePolicy
    ec2-lag        EC2 eventual consistency: a new id is NotFound for a moment
    durations      realistic CREATING/UPDATING/DELETING/pending times
    zones          Local/Wavelength Zones, per-account zone ids, zones EKS refuses
    failures       failure states with AWS's reasons
    dependencies   DependencyViolation / DeleteConflict as AWS enforces them
    iam-checks     permissions moto skips (PassRole, CreateServiceLinkedRole, KMS, CreateTags),
                   and the pods.eks.amazonaws.com trust a Pod Identity role needs
    quotas         default per-region quotas (VPCs, EIPs, IGWs, NAT per zone)
    eks-fidelity   EKS answers shaped as the EKS API reference says

Test helpers that are not behaviours (they act only when a test asks): the
leftovers Kubernetes makes, and lost responses. See CONTROL below.

Control endpoints (HTTP, on moto's port, not AWS-signed):

    GET  /moto-fleet/realism            {"enabled": [...], "time_scale": s,
                                          "injected": {behaviour: count}}
    POST /moto-fleet/realism/reset      counters to zero (state stays)
    POST /moto-fleet/leftovers          {"region", "cluster_name", "kinds": [...]}
                                        -> {"created": {kind: [ids]}}
    POST /moto-fleet/fail-next          {"kind", "name"?, "message"?}: the next such
                                        operation fails (kinds: cluster-create,
                                        nodegroup-create, addon-create, addon-update,
                                        nodegroup-version, cluster-version)
    POST /moto-fleet/lose-responses     {"service", "action", "count"}: the next
                                        `count` matching requests act, then the
                                        connection is closed with no answer
    GET  /moto-fleet/cluster-versions   the Kubernetes version table (moto_fleet.py)
    POST /moto-fleet/cluster-versions   {"add": [rows]} | {"versions": [rows]} |
                                        {"reset": true}: move the table
"""
import os
import threading

BEHAVIOURS = [
    "iam-lag",
    "ec2-lag",
    "durations",
    "zones",
    "failures",
    "dependencies",
    "iam-checks",
    "quotas",
    "eks-fidelity",
]


def parse(spec):
    """The set of behaviours a MOTO_FLEET_REALISM value turns on."""
    enabled = set()
    for word in (w.strip() for w in (spec or "all").split(",")):
        if not word:
            continue
        if word == "all":
            enabled |= set(BEHAVIOURS)
        elif word == "none":
            enabled.clear()
        elif word.startswith("-") and word[1:] in BEHAVIOURS:
            enabled.discard(word[1:])
        elif word in BEHAVIOURS:
            enabled.add(word)
        else:
            raise SystemExit(f"MOTO_FLEET_REALISM: unknown behaviour {word!r}; known: all, none, "
                             + ", ".join(BEHAVIOURS))
    return enabled


ENABLED = parse(os.environ.get("MOTO_FLEET_REALISM"))
TIME_SCALE = float(os.environ.get("MOTO_FLEET_TIME_SCALE") or 0.01)

_counts = {}
_counts_lock = threading.Lock()


def on(behaviour):
    assert behaviour in BEHAVIOURS, behaviour
    return behaviour in ENABLED


def seconds(real_seconds):
    """An AWS duration on the stand-in's compressed clock."""
    return real_seconds * TIME_SCALE


def injected(behaviour, n=1):
    """Count one injection (a refused call, a pending state shown, ...)."""
    with _counts_lock:
        _counts[behaviour] = _counts.get(behaviour, 0) + n


def report():
    with _counts_lock:
        counts = dict(_counts)
    return {"enabled": sorted(ENABLED), "time_scale": TIME_SCALE, "injected": counts}


def reset_counts():
    with _counts_lock:
        _counts.clear()
