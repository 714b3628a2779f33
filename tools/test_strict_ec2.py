#!/usr/bin/env python3
"""Self-check for tools/strict_ec2.py: `python tools/test_strict_ec2.py`.

Starts moto_fleet.py (which hands EC2 to strict_ec2) several times in
parallel: once with every behaviour on, and once per EC2 behaviour with
MOTO_FLEET_REALISM=all,-<name>, then proves each behaviour happens with it on
and does not without it. Each check uses its own region so the quotas of one
do not spill into another. Plain asserts; exits non-zero on the first failure.
"""
import io
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

import local_server
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
SCALE = 0.02                 # lag window 0.1 s, NAT pending 1.8 s, NAT deleting 1.2 s
LAG = 5 * SCALE
LAG_SCALE = 0.4              # for check_lag: a 2 s window
DUR_SCALE = 0.05             # for check_durations
OBSERVER = "AKIAEKSFLEETOBSERVER"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def start(realism, scale=SCALE, **env):
    env = dict(os.environ, MOTO_FLEET_REALISM=realism, MOTO_FLEET_TIME_SCALE=str(scale), **env)
    env.pop("MOTO_ACCOUNT_ID", None)
    return local_server.start_moto_fleet(env)


def client(url, region, service="ec2", key="AKIAIOSFODNN7EXAMPLE", account=None):
    c = boto3.session.Session().client(service, endpoint_url=url, region_name=region, config=NO_RETRY,
                     aws_access_key_id=key, aws_secret_access_key="secret")
    if account:
        c.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__(
            "X-Moto-Account-Id", account))
    return c


def observer(url, region):
    return client(url, region, key=OBSERVER)


def post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def code_of(fn, **kw):
    """The EC2 error code fn raises, or None when it succeeds."""
    try:
        fn(**kw)
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["Error"]["Message"]
    return None


def ready(fn, **kw):
    """Call fn, retrying the new-id NotFound answers as a careful client does."""
    for _ in range(50):
        try:
            return fn(**kw)
        except ClientError as err:
            if not err.response["Error"]["Code"].endswith(("NotFound", "NatGatewayNotFound")):
                raise
            time.sleep(LAG)
    raise AssertionError(f"{fn.__name__} stayed NotFound")


def wait_for(what, fn, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def vpc_and_subnet(ec2, cidr="10.0.0.0/16", subnet_cidr="10.0.1.0/24", zone=None):
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    kw = {"AvailabilityZone": zone} if zone else {}
    subnet = ready(ec2.create_subnet, VpcId=vpc, CidrBlock=subnet_cidr, **kw)["Subnet"]["SubnetId"]
    ready(ec2.describe_subnets, SubnetIds=[subnet])
    return vpc, subnet


# ----- ec2-lag -----------------------------------------------------------------------

def check_lag(url, on):
    # Runs on a server whose clock is 10x slower (LAG_SCALE): the window must
    # outlast a create and the describe after it on a loaded test machine.
    lag = 5 * LAG_SCALE
    ec2, obs = client(url, "eu-west-1"), observer(url, "eu-west-1")
    ec2.describe_vpcs()  # warm the client: the next two calls must fall inside the window
    conclusive = False
    for _ in range(3):  # on a very busy machine the two calls may not fit in the window
        t = time.time()
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        listed = [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}])["Vpcs"]]
        conclusive = time.time() - t < 0.9 * lag
        if conclusive or not on:
            break
    if on and not conclusive:
        print("  NOTE ec2-lag: create + filtered describe took longer than the lag window; omission not checked")
    assert obs.describe_vpcs(VpcIds=[vpc])["Vpcs"], "the observer key is exempt"
    got = code_of(ec2.modify_vpc_attribute, VpcId=vpc, EnableDnsHostnames={"Value": True})
    if on:
        assert vpc not in listed or not conclusive, "a filtered describe omits the new VPC"
        assert got == ("InvalidVpcID.NotFound", f"The vpc ID '{vpc}' does not exist"), got
        time.sleep(lag)
        assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]
    else:
        assert vpc in listed and got is None, got
    # Each kind of new id, on the call a provider makes next.
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    calls = [
        ("InvalidInternetGatewayID.NotFound", ec2.attach_internet_gateway, {"InternetGatewayId": igw, "VpcId": vpc}),
        ("InvalidGroup.NotFound", ec2.authorize_security_group_ingress,
         {"GroupId": sg, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                            "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}),
        ("InvalidRouteTableID.NotFound", ec2.create_route,
         {"RouteTableId": rtb, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw}),
        ("InvalidSubnetID.NotFound", ec2.describe_subnets, {"SubnetIds": [subnet]}),
        ("InvalidAllocationID.NotFound", ec2.describe_addresses, {"AllocationIds": [alloc]}),
    ]
    for code, fn, kw in calls:
        got = code_of(fn, **kw)
        if on:
            assert got and got[0] == code, (code, got)
            time.sleep(lag)
            if fn is ec2.create_route:
                ready(fn, **kw)  # the gateway named in it may still lag too
            else:
                fn(**kw)
        else:
            assert got is None, got
    nat = ready(ec2.create_nat_gateway, SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
    got = code_of(ec2.describe_nat_gateways, NatGatewayIds=[nat])
    assert (got and got[0] == "NatGatewayNotFound") if on else got is None, got
    # Deletes naming a new id may fail too.
    sg2 = ec2.create_security_group(GroupName="tmp", Description="tmp", VpcId=vpc)["GroupId"]
    got = code_of(ec2.delete_security_group, GroupId=sg2)
    assert (got and got[0] == "InvalidGroup.NotFound") if on else got is None, got


# ----- durations ---------------------------------------------------------------------

def check_durations(url, on):
    # Runs on a server whose clock is DUR_SCALE: NAT pending 4.5 s, deleting
    # 3 s, peering initiating 0.5 s and provisioning 1 s. A state shown only
    # for a moment is asserted only when the calls fit inside it.
    within = lambda t0, real: time.time() - t0 < 0.9 * real * DUR_SCALE
    ec2, obs = client(url, "eu-west-2"), observer(url, "eu-west-2")
    vpc, subnet = vpc_and_subnet(ec2)
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    t = time.time()
    nat = ready(ec2.create_nat_gateway, SubnetId=subnet, AllocationId=alloc)["NatGateway"]
    state = lambda: obs.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"]
    if on:
        assert nat["State"] == "pending", nat["State"]
        assert state() == "pending" or not within(t, 90)
        wait_for("NAT available", lambda: state() == "available", timeout=60)
        assert time.time() - t >= 90 * DUR_SCALE
    else:
        assert nat["State"] == "available" and state() == "available"
    t = time.time()
    ready(ec2.delete_nat_gateway, NatGatewayId=nat["NatGatewayId"])
    if on:
        assert state() == "deleting" or not within(t, 60)
        wait_for("NAT deleted", lambda: state() == "deleted", timeout=60)
        assert time.time() - t >= 60 * DUR_SCALE
    else:
        assert state() == "deleted"
    assert obs.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"], \
        "a deleted NAT gateway stays listed"
    # Peering: initiating-request -> pending-acceptance; accept -> provisioning -> active.
    peer = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ready(ec2.describe_vpcs, VpcIds=[peer])
    t = time.time()
    pcx = ready(ec2.create_vpc_peering_connection, VpcId=vpc, PeerVpcId=peer)["VpcPeeringConnection"]
    pid = pcx["VpcPeeringConnectionId"]
    status = lambda: obs.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pid])[
        "VpcPeeringConnections"][0]["Status"]["Code"]
    if on:
        assert pcx["Status"]["Code"] == "initiating-request", pcx["Status"]
        assert status() == "initiating-request" or not within(t, 10)
        wait_for("pending-acceptance", lambda: status() == "pending-acceptance")
    else:
        assert status() == "pending-acceptance"
    t = time.time()
    accepted = ready(ec2.accept_vpc_peering_connection, VpcPeeringConnectionId=pid)["VpcPeeringConnection"]
    options = {"VpcPeeringConnectionId": pid, "RequesterPeeringConnectionOptions": {"AllowDnsResolutionFromRemoteVpc": True}}
    if on:
        assert accepted["Status"]["Code"] == "provisioning", accepted["Status"]
        refused = code_of(ec2.modify_vpc_peering_connection_options, **options)
        if within(t, 20):
            assert refused == ("OperationNotPermitted", "Peering options can be added only to active peerings."), refused
        else:
            print("  NOTE durations: accept + modify took longer than `provisioning`; the refusal was not checked")
        wait_for("active", lambda: status() == "active")
    else:
        assert accepted["Status"]["Code"] == "active"
    ec2.modify_vpc_peering_connection_options(**options)


# ----- zones -------------------------------------------------------------------------

def zone_names(ec2, **kw):
    return {z["ZoneName"]: z for z in ec2.describe_availability_zones(**kw)["AvailabilityZones"]}


def check_zones(url, on):
    west2, east1, west1 = client(url, "us-west-2"), client(url, "us-east-1"), client(url, "us-west-1")
    zones = zone_names(west2)
    if not on:
        assert "us-west-2-lax-1a" not in zones
        assert zone_names(east1)["us-east-1a"]["ZoneId"] == "use1-az6"  # moto's fixed table
        vpc = west2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        got = code_of(west2.create_subnet, VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-west-2-lax-1a")
        assert got is not None, "moto knows no Local Zones"
        return
    lax = zones["us-west-2-lax-1a"]
    assert lax["ZoneType"] == "local-zone" and lax["OptInStatus"] == "opted-in" and lax["ParentZoneName"] == "us-west-2a"
    assert lax["ParentZoneId"] == zones["us-west-2a"]["ZoneId"] and "us-west-2-lax-1b" in zones
    assert "us-west-2-den-1a" not in zones and "us-west-2-den-1a" in zone_names(west2, AllAvailabilityZones=True)
    plain = zone_names(west2, Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}])
    assert plain and all(z["ZoneType"] == "availability-zone" for z in plain.values())
    assert set(zone_names(west2, Filters=[{"Name": "opt-in-status", "Values": ["opted-in"]}])) == {
        "us-west-2-lax-1a", "us-west-2-lax-1b"}
    assert list(zone_names(west2, Filters=[{"Name": "zone-id", "Values": [lax["ZoneId"]]}])) == ["us-west-2-lax-1a"]
    assert list(zone_names(west2, Filters=[{"Name": "zone-name", "Values": ["us-west-2b"]}])) == ["us-west-2b"]
    e1 = zone_names(east1)
    assert e1["us-east-1-bos-1a"]["ZoneType"] == "local-zone"
    assert any(z["ZoneType"] == "wavelength-zone" for z in e1.values())
    first3 = lambda zs: {zs[n]["ZoneId"] for n in sorted(n for n in zs if zs[n]["ZoneType"] == "availability-zone")[:3]}
    assert "use1-az3" in first3(e1), first3(e1)
    assert "usw1-az2" in first3(zone_names(west1)), zone_names(west1)
    # Another account maps names to ids differently.
    other = {n: z["ZoneId"] for n, z in zone_names(client(url, "us-east-1", account="210987654321")).items()}
    assert other != {n: z["ZoneId"] for n, z in e1.items()}
    assert sorted(other.values()) != sorted(z["ZoneId"] for z in e1.values()) or other != e1
    # Subnets carry the account's ids; Local Zone subnets work; AvailabilityZoneId is honoured.
    vpc = west2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    local = ready(west2.create_subnet, VpcId=vpc, CidrBlock="10.0.1.0/24",
                  AvailabilityZone="us-west-2-lax-1a")["Subnet"]
    assert (local["AvailabilityZone"], local["AvailabilityZoneId"]) == ("us-west-2-lax-1a", lax["ZoneId"]), local
    b_id = zones["us-west-2b"]["ZoneId"]
    by_id = west2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZoneId=b_id)["Subnet"]
    assert (by_id["AvailabilityZone"], by_id["AvailabilityZoneId"]) == ("us-west-2b", b_id), by_id
    obs = observer(url, "us-west-2")
    seen = {s["SubnetId"]: (s["AvailabilityZone"], s["AvailabilityZoneId"])
            for s in obs.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
    assert seen == {local["SubnetId"]: ("us-west-2-lax-1a", lax["ZoneId"]), by_id["SubnetId"]: ("us-west-2b", b_id)}, seen
    default = {s["AvailabilityZone"]: s["AvailabilityZoneId"]
               for s in obs.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]}
    assert all(default[n] == zones[n]["ZoneId"] for n in default), (default, zones)
    assert code_of(west2.create_subnet, VpcId=vpc, CidrBlock="10.0.3.0/24",
                   AvailabilityZone="us-west-2-den-1a")[0] == "OptInRequired"


# ----- failures ----------------------------------------------------------------------

def check_failures(url, on):
    ec2, obs = client(url, "ca-central-1"), observer(url, "ca-central-1")
    vpc, subnet = vpc_and_subnet(ec2)
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    assert post(url, "/moto-fleet/fail-next", {"kind": "nat-create", "region": "ca-central-1"})["armed"] == "nat-create"
    nat = ready(ec2.create_nat_gateway, SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
    final = wait_for("NAT settled", lambda: next(
        (n for n in obs.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"] if n["State"] != "pending"), None))
    if on:
        assert final["State"] == "failed" and final["FailureCode"] == "InsufficientFreeAddressesInSubnet", final
        assert final["FailureMessage"]
    else:
        assert final["State"] == "available" and "FailureCode" not in final, final
    peer = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    same = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    time.sleep(LAG)
    post(url, "/moto-fleet/fail-next", {"kind": "peering", "region": "ca-central-1",
                                        "message": "The accepter VPC does not exist"})
    armed = ready(ec2.create_vpc_peering_connection, VpcId=vpc, PeerVpcId=peer)["VpcPeeringConnection"]
    overlap = ready(ec2.create_vpc_peering_connection, VpcId=vpc, PeerVpcId=same)["VpcPeeringConnection"]
    for pcx, message in ((armed, "The accepter VPC does not exist"), (overlap, None)):
        pid = pcx["VpcPeeringConnectionId"]
        st = wait_for("peering settled", lambda: next(
            (p["Status"] for p in obs.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pid])[
                "VpcPeeringConnections"] if p["Status"]["Code"] != "initiating-request"), None))
        if on:
            assert st["Code"] == "failed" and (message is None or st["Message"] == message), st
            assert message or "overlapping CIDR" in st["Message"], st
        else:
            assert st["Code"] == "pending-acceptance", st


# ----- dependencies ------------------------------------------------------------------

def check_dependencies(url, on):
    ec2, obs = client(url, "eu-central-1"), observer(url, "eu-central-1")

    def refused(code, fn, **kw):
        """With dependencies on, fn is refused with code (its message returned); off, it works."""
        try:
            ready(fn, **kw)
            got = None
        except ClientError as err:
            got = err.response["Error"]["Code"], err.response["Error"]["Message"]
        if on:
            assert got and got[0] == code, (code, got)
            return got[1]
        assert got is None, got
        return None

    vpc, subnet = vpc_and_subnet(ec2)
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    doomed = ready(ec2.create_subnet, VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    ready(ec2.create_network_interface, SubnetId=doomed)
    msg = refused("DependencyViolation", ec2.delete_subnet, SubnetId=doomed)
    assert not on or msg == f"The subnet '{doomed}' has dependencies and cannot be deleted.", msg
    # Security groups: referenced by another group's rule, or attached to an interface.
    a = ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
    b = ec2.create_security_group(GroupName="b", Description="b", VpcId=vpc)["GroupId"]
    ready(ec2.authorize_security_group_ingress, GroupId=a, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": b}]}])
    ready(ec2.describe_security_groups, GroupIds=[b])
    refused("DependencyViolation", ec2.delete_security_group, GroupId=b)
    vpc2, subnet2 = vpc_and_subnet(ec2)  # overlaps vpc: its peering fails below
    c = ready(ec2.create_security_group, GroupName="c", Description="c", VpcId=vpc2)["GroupId"]
    ready(ec2.create_network_interface, SubnetId=subnet2, Groups=[c])
    refused("DependencyViolation", ec2.delete_security_group, GroupId=c)
    # DeleteVpc with a non-default security group, or an attached internet gateway.
    vpc3 = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    ready(ec2.create_security_group, GroupName="d", Description="d", VpcId=vpc3)
    msg = refused("DependencyViolation", ec2.delete_vpc, VpcId=vpc3)
    assert not on or msg == f"The vpc '{vpc3}' has dependencies and cannot be deleted.", msg
    vpc4 = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    igw4 = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ready(ec2.attach_internet_gateway, InternetGatewayId=igw4, VpcId=vpc4)
    refused("DependencyViolation", ec2.delete_vpc, VpcId=vpc4)
    # DetachInternetGateway while a public address is mapped in the VPC.
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ready(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc)
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ready(ec2.associate_address, AllocationId=alloc, NetworkInterfaceId=eni)
    msg = refused("DependencyViolation", ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=vpc)
    assert not on or msg == (f"Network {vpc} has some mapped public address(es). Please unmap those public "
                             "address(es) before detaching the gateway."), msg
    # ReleaseAddress just after its NAT gateway is deleted: AuthFailure, then InvalidIPAddress.InUse.
    alloc2 = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ready(ec2.create_nat_gateway, SubnetId=subnet, AllocationId=alloc2)["NatGateway"]["NatGatewayId"]
    ready(ec2.delete_nat_gateway, NatGatewayId=nat)
    wait_for("NAT deleted", lambda: obs.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "deleted")
    first = code_of(ec2.release_address, AllocationId=alloc2)
    if on:
        second = code_of(ec2.release_address, AllocationId=alloc2)
        assert first[0] == "AuthFailure" and second[0] == "InvalidIPAddress.InUse", (first, second)
        wait_for("EIP released", lambda: code_of(ec2.release_address, AllocationId=alloc2) is None, timeout=20)
    else:
        assert first is None, first
    # DeleteVpcPeeringConnection on a failed (overlapping) peering. Four VPCs
    # and the default one: the quota of 5 is reached, so no new VPC here.
    pid = ready(ec2.create_vpc_peering_connection, VpcId=vpc, PeerVpcId=vpc2)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"]
    wait_for("peering failed", lambda: obs.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pid])[
        "VpcPeeringConnections"][0]["Status"]["Code"] == "failed")
    msg = refused("InvalidStateTransition", ec2.delete_vpc_peering_connection, VpcPeeringConnectionId=pid)
    assert not on or msg == f"Invalid state transition for {pid}, attempted to transition from failed to deleting", msg


# ----- quotas ------------------------------------------------------------------------

def check_quotas(url, on, raised=False):
    region = "ap-southeast-1"
    ec2 = client(url, region)
    # The default VPC (and its internet gateway) count toward the 5.
    for _ in range(4):
        ec2.create_vpc(CidrBlock="10.0.0.0/16")
    got = code_of(ec2.create_vpc, CidrBlock="10.0.0.0/16")
    if on and not raised:
        assert got == ("VpcLimitExceeded", "The maximum number of VPCs has been reached."), got
    else:
        assert got is None, got
    if raised:  # MOTO_FLEET_QUOTAS=vpcs=10: ten in all
        for _ in range(4):
            ec2.create_vpc(CidrBlock="10.0.0.0/16")
        assert code_of(ec2.create_vpc, CidrBlock="10.0.0.0/16")[0] == "VpcLimitExceeded"
    for _ in range(5):
        ec2.allocate_address(Domain="vpc")
    got = code_of(ec2.allocate_address, Domain="vpc")
    assert (got == ("AddressLimitExceeded", "The maximum number of addresses has been reached.")) if on else got is None, got
    for _ in range(4):
        ec2.create_internet_gateway()
    got = code_of(ec2.create_internet_gateway)
    assert (got and got[0] == "InternetGatewayLimitExceeded") if on else got is None, got
    subnet = client(url, region, key=OBSERVER).describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
    for _ in range(5):
        ec2.create_nat_gateway(SubnetId=subnet, ConnectivityType="private")
    got = code_of(ec2.create_nat_gateway, SubnetId=subnet, ConnectivityType="private")
    assert (got and got[0] == "NatGatewayLimitExceeded") if on else got is None, got


# ----- leftovers (test helper) -----------------------------------------------------------

def check_leftovers(url):
    region = "ap-northeast-1"
    ec2, obs = client(url, region), observer(url, region)
    eks = client(url, region, service="eks")
    vpc, s1 = vpc_and_subnet(ec2, zone=f"{region}a")
    s2 = ready(ec2.create_subnet, VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone=f"{region}c")["Subnet"]["SubnetId"]
    ready(ec2.describe_subnets, SubnetIds=[s2])
    cluster = eks.create_cluster(name="k1", version="1.33", roleArn="arn:aws:iam::123456789012:role/eks",
                                 resourcesVpcConfig={"subnetIds": [s1, s2]})["cluster"]
    created = post(url, "/moto-fleet/leftovers", {"region": region, "cluster_name": "k1",
                                                  "kinds": ["cni-eni", "elb-sg", "guardduty", "lb-eni"]})["created"]
    enis = {e["NetworkInterfaceId"]: e for e in obs.describe_network_interfaces(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkInterfaces"]}
    cni = enis[created["cni-eni"][0]]
    assert cni["Status"] == "available" and cni["Description"].startswith("aws-K8S-eni-")
    assert {"Key": "cluster.k8s.amazonaws.com/name", "Value": "k1"} in cni["TagSet"], cni
    lb = enis[created["lb-eni"][0]]
    assert lb["InterfaceType"] == "network_load_balancer" and lb["Status"] == "in-use"
    assert lb["Description"].startswith("ELB net/k8s-")
    sg = obs.describe_security_groups(GroupIds=created["elb-sg"])["SecurityGroups"][0]
    assert sg["GroupName"].startswith("k8s-elb-") and {"Key": "kubernetes.io/cluster/k1", "Value": "owned"} in sg["Tags"]
    cluster_sg = eks.describe_cluster(name="k1")["cluster"]["resourcesVpcConfig"]["clusterSecurityGroupId"]
    rules = obs.describe_security_groups(GroupIds=[cluster_sg])["SecurityGroups"][0]["IpPermissions"]
    assert any(p["GroupId"] == sg["GroupId"] for r in rules for p in r["UserIdGroupPairs"]), rules
    assert code_of(ec2.delete_security_group, GroupId=sg["GroupId"])[0] == "DependencyViolation"
    ep_id, gd_sg = created["guardduty"]
    ep = obs.describe_vpc_endpoints(VpcEndpointIds=[ep_id])["VpcEndpoints"][0]
    assert ep["ServiceName"] == f"com.amazonaws.{region}.guardduty-data" and ep["VpcEndpointType"] == "Interface"
    assert obs.describe_security_groups(GroupIds=[gd_sg])["SecurityGroups"][0]["GroupName"] == \
        f"GuardDutyManagedSecurityGroup-{vpc}"
    assert code_of(ec2.delete_security_group, GroupId=gd_sg)[0] == "DependencyViolation"  # the endpoint uses it
    # The filter AWS documents for DescribeVpcEndpoints (moto lacks it).
    by_filter = obs.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-id", "Values": [ep_id]}])["VpcEndpoints"]
    assert [e["VpcEndpointId"] for e in by_filter] == [ep_id], by_filter
    assert code_of(ec2.delete_network_interface, NetworkInterfaceId=lb["NetworkInterfaceId"])[0] == \
        "InvalidNetworkInterface.InUse"
    assert code_of(ec2.delete_vpc, VpcId=vpc)[0] == "DependencyViolation"
    assert code_of(ec2.delete_subnet, SubnetId=s1)[0] == "DependencyViolation"
    assert cluster["resourcesVpcConfig"]["vpcId"] == vpc


# ----- lost responses (test helper) --------------------------------------------------------

def check_lost_responses(url):
    region = "eu-north-1"
    try:
        post(url, "/moto-fleet/lose-responses", {"service": "ec2", "action": "CreateVpc", "count": 1})
    except urllib.error.HTTPError as err:  # moto answers an unknown path with 404 or 500
        print(f"  SKIP lost responses: POST /moto-fleet/lose-responses answered {err.code} "
              "(moto_fleet's endpoint and tools/lost_responses.py not in this branch yet)")
        return
    ec2, obs = client(url, region), observer(url, region)
    before = len(obs.describe_vpcs()["Vpcs"])
    # botocore resends a request whose connection was reset, even with retries
    # off: the lost CreateVpc acted, and the resent one made a second VPC,
    # exactly the duplicate a lost answer causes against AWS.
    ec2.create_vpc(CidrBlock="10.7.0.0/16")
    assert len(obs.describe_vpcs()["Vpcs"]) == before + 2, "the lost CreateVpc took effect, and so did its resend"
    # A create that takes a ClientToken is idempotent: the resend of a lost
    # CreateRouteTable answers the first table, and makes no second one.
    vpc = obs.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.7.0.0/16"]}])["Vpcs"][0]["VpcId"]
    tables = lambda: len(obs.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"])
    before = tables()
    post(url, "/moto-fleet/lose-responses", {"service": "ec2", "action": "CreateRouteTable", "count": 1})
    first = ready(ec2.create_route_table, VpcId=vpc, ClientToken="tok-1")["RouteTable"]["RouteTableId"]
    assert tables() == before + 1, "the lost create and its resend made one table"
    again = obs.create_route_table(VpcId=vpc, ClientToken="tok-1")["RouteTable"]["RouteTableId"]
    assert again == first and tables() == before + 1
    other = obs.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    assert code_of(obs.create_route_table, VpcId=other, ClientToken="tok-1")[0] == "IdempotentParameterMismatch"


def check_iam_first(url):
    """With IAM enforced, a call the caller may not make is refused as moto
    refuses it (AWS checks permissions first), not with a lag or quota answer."""
    iam = client(url, "us-east-1", service="iam")  # within INITIAL_NO_AUTH_ACTION_COUNT
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ec2:CreateVpc", "ec2:DescribeVpcs"], "Resource": "*"}]}))
    ec2 = boto3.session.Session().client("ec2", endpoint_url=url, region_name="eu-west-1", config=NO_RETRY,
                                         aws_access_key_id=key["AccessKeyId"],
                                         aws_secret_access_key=key["SecretAccessKey"])
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    denied = code_of(ec2.modify_vpc_attribute, VpcId=vpc, EnableDnsHostnames={"Value": True})
    assert denied and denied[0] in ("AccessDenied", "UnauthorizedOperation"), denied
    assert code_of(ec2.describe_vpcs, VpcIds=[vpc])[0] == "InvalidVpcID.NotFound"  # allowed: the lag shows
    assert code_of(ec2.describe_availability_zones)[0] in ("AccessDenied", "UnauthorizedOperation")


def check_lost_path_in_process():
    """strict_ec2's own half of lost responses, with a stand-in for tools/lost_responses.py:
    the action reaches moto, then drop_connection is called instead of answering."""
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("MOTO_FLEET_REALISM", "all")
    import strict_ec2
    from moto.ec2.models import ec2_backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class Fake:
        armed, dropped = {("ec2", "CreateVpc"): 1}, []

        def take(self, service, action):
            left = self.armed.get((service, action), 0)
            self.armed[(service, action)] = max(0, left - 1)
            return left > 0

        def drop_connection(self, environ):
            self.dropped.append(environ["PATH_INFO"])
            return []
    fake, saved = Fake(), strict_ec2.lost_responses
    strict_ec2.lost_responses = fake
    try:
        app = DomainDispatcherApplication(create_backend_app)
        region = "sa-east-1"
        before = len(ec2_backends["123456789012"][region].vpcs)
        body = b"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.5.0.0%2F16"
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "localhost",
                   "SERVER_PORT": "80", "HTTP_HOST": "localhost", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                   "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
                   "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/{region}/ec2/"
                                         "aws4_request, SignedHeaders=host, Signature=x"}
        answered = []
        result = strict_ec2.handle(environ, lambda status, headers: answered.append(status), app)
        assert list(result) == [] and not answered and fake.dropped == ["/"], (answered, fake.dropped)
        assert len(ec2_backends["123456789012"][region].vpcs) == before + 1, "the lost CreateVpc took effect"
    finally:
        strict_ec2.lost_responses = saved


def main():
    t0 = time.time()
    configs = {"on": ("all", {}), "raised": ("all", {"MOTO_FLEET_QUOTAS": "vpcs=10"}), "lost": ("all", {}),
               "lag": ("all", {"scale": LAG_SCALE}), "durations-on": ("all", {"scale": DUR_SCALE}),
               "auth": ("all", {"scale": LAG_SCALE, "INITIAL_NO_AUTH_ACTION_COUNT": "3"})}
    for name in ("ec2-lag", "durations", "zones", "failures", "dependencies", "quotas"):
        configs[name] = (f"all,-{name}", {"scale": LAG_SCALE} if name == "ec2-lag" else {})
    with ThreadPoolExecutor(len(configs)) as pool:
        servers = dict(zip(configs, pool.map(lambda c: start(c[0], **c[1]), configs.values())))
    try:
        url = servers["on"][1]
        checks = [
            ("ec2-lag", check_lag), ("durations", check_durations), ("zones", check_zones),
            ("failures", check_failures), ("dependencies", check_dependencies), ("quotas", check_quotas),
        ]
        jobs = []
        with ThreadPoolExecutor(16) as pool:
            for name, fn in checks:
                # Time-sensitive checks run where AWS's durations last long enough to observe.
                server = {"ec2-lag": "lag", "durations": "durations-on", "dependencies": "durations-on"}.get(name, "on")
                jobs.append((f"{name} on", pool.submit(fn, servers[server][1], True)))
                jobs.append((f"{name} off", pool.submit(fn, servers[name][1], False)))
            jobs.append(("quotas raised", pool.submit(check_quotas, servers["raised"][1], True, True)))
            jobs.append(("leftovers", pool.submit(check_leftovers, url)))
            jobs.append(("lost responses", pool.submit(check_lost_responses, servers["lost"][1])))
            failed = []
            jobs.append(("IAM is checked before the stand-in's refusals", pool.submit(check_iam_first, servers["auth"][1])))
            jobs.append(("lost responses (strict_ec2 half, in process)", pool.submit(check_lost_path_in_process)))
            for label, job in jobs:
                try:
                    job.result()
                    print(f"  {label}: ok")
                except Exception:
                    failed.append(label)
                    print(f"  {label}: FAILED")
                    traceback.print_exc()
    finally:
        for proc, _ in servers.values():
            proc.terminate()
        for proc, _ in servers.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    if failed:
        sys.exit(f"strict_ec2 self-check: FAILED: {', '.join(failed)}")
    print(f"strict_ec2 self-check: OK ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
