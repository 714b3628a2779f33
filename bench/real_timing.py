"""Real AWS timing (issue #17): the apply and destroy of both sides with the
stand-in's realistic durations (MOTO_FLEET_REALISM=durations, one
MOTO_FLEET_TIME_SCALE for both), against the AWS critical path.

The critical path is the sum of the waits AWS imposes along the longest
chain of the fleet, from the stand-in's own durations (ci_scale's
`stand_in_durations`) times the scale: in a region, the NAT gateway
(pending), the control plane (CREATING), the node group (CREATING), then
the edge's peering (initiating-request, provisioning). Roles, VPC and
subnets have no wait under `durations` (iam-lag and ec2-lag are other
behaviours, left off so that both sides meet the same AWS). Two other
figures are reported beside it: the shortest any config could reach
(AWS does not need the NAT gateway before the control plane, only before
the nodes, and a peering needs only the two VPCs), and the destroy's waits.

Each wait's poll lag is measured from the API calls moto saw
(bench/moto_counting.py's timeline): the object is ready at its create
call plus its duration x scale, and the lag is the time from then to the
side's first Describe of that kind in that region. Providers poll on
their own clocks, which the time scale does not compress, so at a scale of
0.03 a few seconds of poll lag weigh ~30x what they would against real AWS.
"""
import time

import ci_scale

SCALE = 0.03
REALISM = "durations"
NS = "1,4,10,20"
# Destroy is measured up to this N: the peer's destroy at N=20 alone takes ~2 min and would push
# `make bench` past its 30 min; above it the fleet is wiped with moto's reset, as in the per-N part.
DESTROY_MAX_N = 10
HUB = "us-east-1"  # both configs' hub
# Poll schedules, to model the lag at other scales: eksfleet's Backoff::default
# (provider/src/aws/waiters.rs: 200 ms, doubling, capped at 10 s, +-25 % jitter);
# the peer's waiters match 100 ms doubling to 10 s (its poll counts and lags
# in this bench fit that), the plugin SDK's StateChangeConf default.
SCHEDULES = {"eksfleet": (0.2, 10.0), "peer": (0.1, 10.0)}
TARGET = 1.1  # eksfleet apply / critical path, at N=10 (issue #17)
# A wait: the call that starts it, the call that polls it, and its key in stand_in_durations.
WAITS = {
    "nat": ("ec2", "CreateNatGateway", "DescribeNatGateways", "nat"),
    "cluster": ("eks", "CreateCluster", "DescribeCluster", "cluster"),
    "nodegroup": ("eks", "CreateNodegroup", "DescribeNodegroup", "nodegroup"),
}


def critical_paths(d, scale, n):
    """Seconds, on the stand-in's clock. `chain` is the target's denominator."""
    peering = d["peering"] if n > 1 else 0
    return {
        "chain_s": (d["nat"] + d["cluster"] + d["nodegroup"] + peering) * scale,
        "aws_min_s": max(max(d["nat"], d["cluster"]) + d["nodegroup"], peering) * scale,
        # Node group, then control plane; the NAT gateway's delete runs alongside.
        "destroy_s": (d["nodegroup_deleting"] + d["cluster_deleting"]) * scale,
    }


def index(timeline):
    calls = {}
    for t, region, service, action in timeline:
        calls.setdefault((region, service, action), []).append(t)
    return calls


def region_waits(calls, region, d, scale):
    """Per wait kind in one region: when it started, was ready, was first seen ready, and how many polls."""
    out = {}
    for kind, (service, create, poll, key) in WAITS.items():
        starts = calls.get((region, service, create))
        if not starts:
            continue
        start = starts[0]
        ready = start + d[key] * scale
        polls = [t for t in calls.get((region, service, poll), []) if t >= start]
        seen = next((t for t in polls if t >= ready), None)
        if seen is not None:
            out[kind] = {"start": start, "ready": ready, "seen": seen, "lag": seen - ready,
                         "polls": sum(1 for t in polls if t <= seen)}
    return out


def peering_spans(calls, hub, d, scale):
    """Per edge: its peering's create (in the edge region) to the edge side's last options call, less AWS's wait."""
    spans = {}
    for (region, service, action), times in calls.items():
        if action != "CreateVpcPeeringConnection" or region == hub:
            continue
        done = calls.get((region, "ec2", "ModifyVpcPeeringConnectionOptions"))
        if done:
            spans[region] = {"start": times[0], "end": done[-1],
                             "excess": done[-1] - times[0] - d["peering"] * scale}
    return spans


def breakdown(timeline, t0, seconds, d, scale, hub):
    """The apply's wall time split along the region whose node group was seen ready last:
    head (Terraform start and plan, the calls before the first wait), the waits and their
    poll lags, the gaps between one wait's end and the next one's start, and the tail
    (what follows: the peerings for eksfleet, Terraform finishing)."""
    calls = index(timeline)
    regions = sorted({r for _, r, _, _ in timeline if r})
    waits = {r: region_waits(calls, r, d, scale) for r in regions}
    waits = {r: w for r, w in waits.items() if "nodegroup" in w}
    if not waits:
        return None
    region = max(waits, key=lambda r: waits[r]["nodegroup"]["seen"])
    w = waits[region]
    # Walk the chain back from the node group: a wait is on it if the next one started after it was seen.
    chain = ["nodegroup"]
    for kind in ("cluster", "nat"):
        if kind in w and w[chain[0]]["start"] >= w[kind]["seen"]:
            chain.insert(0, kind)
        elif kind == "cluster":
            break
    head = w[chain[0]]["start"] - t0
    first_call = min(t for t, *_ in timeline) - t0
    gaps = sum(w[b]["start"] - w[a]["seen"] for a, b in zip(chain, chain[1:]))
    tail = t0 + seconds - w["nodegroup"]["seen"]
    peerings = peering_spans(calls, hub, d, scale)
    return {
        "region": region, "chain": chain,
        "head_s": head, "first_call_s": first_call, "gaps_s": gaps, "tail_s": tail,
        "waits_s": sum(w[k]["ready"] - w[k]["start"] for k in chain),
        "lag_s": sum(w[k]["lag"] for k in chain),
        "lags": {k: w[k]["lag"] for k in w}, "polls": {k: w[k]["polls"] for k in w},
        # All regions' lags, to show their spread (one region's is the chain's).
        "lag_all": {k: [waits[r][k]["lag"] for r in waits if k in waits[r]] for k in WAITS},
        "peering_excess_s": max((p["excess"] for p in peerings.values()), default=None),
    }


def measure(moto_class, make_tfs, ns, moto_python, scale, log, destroy_max_n=DESTROY_MAX_N):
    """Apply from empty then destroy, per N, sides alternating (one run each: a fresh stand-in per N)."""
    durations = ci_scale.stand_in_durations(moto_python)
    out = {"scale": scale, "realism": REALISM, "durations": durations, "n": {}, "destroy_max_n": destroy_max_n}
    moto = moto_class(moto_python, realism=REALISM, time_scale=scale)
    try:
        tfs = make_tfs(moto)
        for i, n in enumerate(ns):
            row = {"paths": critical_paths(durations, scale, n)}
            order = ("eksfleet", "peer") if i % 2 == 0 else ("peer", "eksfleet")
            for side in order:
                tf = tfs[side][n]
                moto.reset()
                for state in tf.workdir.glob("terraform.tfstate*"):
                    state.unlink()
                t0 = time.time()
                apply = tf.run("rt-apply", "apply", "-auto-approve", n=n)
                timeline = moto.timeline()
                apply_calls = moto.calls()["total"]
                destroy = tf.run("rt-destroy", "destroy", "-auto-approve", n=n) if n <= destroy_max_n else None
                row[side] = {
                    "apply_s": apply["seconds"], "destroy_s": destroy and destroy["seconds"], "apply_calls": apply_calls,
                    "breakdown": breakdown(timeline, t0, apply["seconds"], durations, scale, HUB),
                }
                log(f"real timing N={n} {side}: apply {apply['seconds']:.1f} s "
                    f"({apply['seconds'] / row['paths']['chain_s']:.2f}x the critical path "
                    f"{row['paths']['chain_s']:.1f} s)" + (f", destroy {destroy['seconds']:.1f} s" if destroy else ""))
            out["n"][n] = row
    finally:
        moto.stop()
    return out


def modelled_lag(wait, first, cap):
    """Seconds from the end of a `wait` to the first poll of a doubling schedule (no jitter) after it."""
    t, step = 0.0, first
    while t < wait:
        t += step
        step = min(step * 2, cap)
    return t - wait


def chain_lag(side, d, scale):
    """Modelled poll lag along the NAT -> control plane -> node group chain (the peer's NAT runs alongside)."""
    first, cap = SCHEDULES[side]
    kinds = ("nat", "cluster", "nodegroup") if side == "eksfleet" else ("cluster", "nodegroup")
    return sum(modelled_lag(d[k] * scale, first, cap) for k in kinds)


def secs(value):
    return "not measured" if value is None else f"{value:.1f} s"


def less_lag(side, paths):
    """The apply's ratio to the critical path without the poll lag on its chain: what it would be if each
    wait were seen the moment it ended (the lag does not shrink with the time scale; see the notes)."""
    b = side["breakdown"]
    return "–" if not b else f"{(side['apply_s'] - b['lag_s']) / paths['chain_s']:.2f}×"


def report_lines(rt):
    """bench/results.md's "Real AWS timing" section."""
    d, scale = rt["durations"], rt["scale"]
    ns = sorted(rt["n"], key=int)
    lines = [
        "## Real AWS timing (apply and destroy under the stand-in's durations)",
        "",
        f"The stand-in with `MOTO_FLEET_REALISM={rt['realism']}` and `MOTO_FLEET_TIME_SCALE={scale}` for both "
        f"sides: NAT gateway pending {d['nat']} s, control plane CREATING {d['cluster']} s, node group CREATING "
        f"{d['nodegroup']} s, peering {d['peering_initiating']} + {d['peering_provisioning']} s; deletes: node "
        f"group {d['nodegroup_deleting']} s, control plane {d['cluster_deleting']} s, NAT {d['nat_deleting']} s "
        f"(real seconds, each x {scale} here). One run per N, sides alternating, a fresh fleet each"
        + (f"; this part took {rt['elapsed_s'] / 60:.1f} min." if rt.get("elapsed_s") else "."),
        "",
        "The critical path is the waits along NAT gateway → control plane → node group → the edge's peering "
        "(roles, VPC and subnets have no wait under `durations`). The shortest possible is lower: AWS needs the "
        "NAT gateway only before the nodes, so it can run alongside the control plane, and a peering needs only "
        "the VPCs.",
        "",
        "| N | critical path | shortest possible | eksfleet apply | peer apply | eksfleet / path | peer / path | "
        "… less poll lag: eksfleet | … peer | eksfleet destroy | peer destroy | destroy waits |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in ns:
        row = rt["n"][n]
        p, e, q = row["paths"], row["eksfleet"], row["peer"]
        lines.append(
            f"| {n} | {p['chain_s']:.1f} s | {p['aws_min_s']:.1f} s | {e['apply_s']:.1f} s | {q['apply_s']:.1f} s | "
            f"{e['apply_s'] / p['chain_s']:.2f}× | {q['apply_s'] / p['chain_s']:.2f}× | "
            f"{less_lag(e, p)} | {less_lag(q, p)} | {secs(e['destroy_s'])} | {secs(q['destroy_s'])} | "
            f"{p['destroy_s']:.1f} s |")
    lines += ["", "Where each apply's time goes, along the region whose node group was ready last (measured from "
              "the calls moto saw; *lag* is from the moment the object was ready to the side's first poll that "
              "saw it):", "",
              "| N | side | region | chain | first AWS call | before the first wait | waits | poll lag on the chain | between waits | "
              "after the node group | lag per wait (this region) | polls per wait |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in ns:
        for side in ("eksfleet", "peer"):
            b = rt["n"][n][side]["breakdown"]
            if not b:
                lines.append(f"| {n} | {side} | – | no node group seen | | | | | | | | |")
                continue
            lags = ", ".join(f"{k} {v:.2f} s" for k, v in b["lags"].items())
            polls = ", ".join(f"{k} {v}" for k, v in b["polls"].items())
            excess = b.get("peering_excess_s")
            peering = "" if excess is None else f" (peerings: the slowest took {excess:.1f} s over its wait)"
            first = f"{b['first_call_s']:.1f} s" if "first_call_s" in b else "–"
            lines.append(f"| {n} | {side} | {b['region']} | {' → '.join(b['chain'])} | {first} | {b['head_s']:.1f} s | "
                         f"{b['waits_s']:.1f} s | {b['lag_s']:.1f} s | {b['gaps_s']:.1f} s | {b['tail_s']:.1f} s{peering} | "
                         f"{lags} | {polls} |")
    top = max(ns, key=int)
    chain_real = sum(d[k] for k in ("nat", "cluster", "nodegroup"))
    lines += [
        "",
        "Poll lag, modelled from each side's poll schedule (no jitter) against this table's lag on the chain: "
        f"at this scale eksfleet {chain_lag('eksfleet', d, scale):.1f} s, the peer {chain_lag('peer', d, scale):.1f} s; "
        f"at AWS's real durations (scale 1) eksfleet {chain_lag('eksfleet', d, 1):.1f} s, the peer "
        f"{chain_lag('peer', d, 1):.1f} s on a {chain_real} s chain. Both poll with doubling intervals capped at "
        "10 s, so a wait shorter than a minute or so is seen up to its own length late; the time scale shrinks "
        "the waits but not the intervals, which is why the lag weighs so much here. *Before the first wait* "
        "holds Terraform's start and plan (up to *first AWS call*) and the calls that make the VPC, subnets, "
        "roles and routes.",
    ]
    target_n = next((n for n in ns if int(n) == 10), top)
    t = rt["n"][target_n]
    er = t["eksfleet"]["apply_s"] / t["paths"]["chain_s"]
    pr = t["peer"]["apply_s"] / t["paths"]["chain_s"]
    lines += [
        "",
        f"Target (N={target_n}): eksfleet apply ≤ {TARGET}× the critical path and below the peer's: "
        f"{er:.2f}× against the peer's {pr:.2f}× — "
        + ("met." if er <= TARGET and er < pr else
           "not met" + (f" ({er / TARGET:.2f}× over the ratio)" if er > TARGET else "")
           + ("" if er < pr else ", and not below the peer") + "."),
        "",
    ]
    return lines


def readme_line(rt):
    ns = sorted(rt["n"], key=int)
    parts = []
    for n in ns:
        row = rt["n"][n]
        c = row["paths"]["chain_s"]
        parts.append(f"N={n}: eksfleet {row['eksfleet']['apply_s'] / c:.2f}× ({less_lag(row['eksfleet'], row['paths'])}), "
                     f"aws 3.39 {row['peer']['apply_s'] / c:.2f}× ({less_lag(row['peer'], row['paths'])})")
    return (f"Apply under the stand-in's AWS durations (time scale {rt['scale']}), as a ratio to the AWS critical "
            f"path (NAT → control plane → node group → peering), and in brackets without the poll lag on that "
            f"chain (both sides' poll intervals are not scaled): " + "; ".join(parts) + " (see bench/results.md).")
