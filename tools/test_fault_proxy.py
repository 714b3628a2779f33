#!/usr/bin/env python3
"""Self-check for tools/fault_proxy.py: `python tools/test_fault_proxy.py`.

Starts moto_fleet.py and the proxy in front of it on free ports, then drives
every fault kind through boto3 with retries off, checking that each answer is
shaped like the real service's (code, HTTP status, error type) and that
faulted calls never reach moto. Plain asserts; exits non-zero on failure.
"""
import json
import os
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

import local_server

ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def start():
    moto_port, proxy_port = local_server.free_port(), local_server.free_port()
    # The proxy's own emulations are checked against moto as it is; the strict
    # stand-in's behaviours have their own self-checks (test_strict_ec2.py).
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_FLEET_REALISM="none")
    moto, _ = local_server.start_moto_fleet(env, port=moto_port)
    url = f"http://127.0.0.1:{proxy_port}"
    proxy, _ = local_server.start("fault_proxy.py", ["--target", f"http://127.0.0.1:{moto_port}", "-p", proxy_port],
                                  os.environ, url + "/fault-proxy/stats")
    return [moto, proxy], url


def client(url, service, region="eu-west-1"):
    return boto3.client(service, endpoint_url=url, region_name=region, config=NO_RETRIES,
                        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="secret")


def control(url, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    return json.load(urllib.request.urlopen(request))


def schedule(url, *rules, seed=1):
    control(url, "/fault-proxy/schedule", {"seed": seed, "rules": list(rules)})


def expect(fn, code, status, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as err:
        got = (err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), (code, status, got)
        return err
    raise AssertionError(f"expected {code} ({status})")


def check_errors(url):
    ec2, iam, eks = client(url, "ec2"), client(url, "iam", "us-east-1"), client(url, "eks")
    logs = client(url, "logs")
    sqs, events = client(url, "sqs"), client(url, "events")
    cases = [
        ("ec2", "DescribeVpcs", "throttle", ec2.describe_vpcs, {}, "RequestLimitExceeded", 503),
        ("iam", "ListRoles", "throttle", iam.list_roles, {}, "Throttling", 400),
        ("eks", "ListClusters", "throttle", eks.list_clusters, {}, "ThrottlingException", 429),
        ("ec2", "DescribeVpcs", "http429", ec2.describe_vpcs, {}, "TooManyRequestsException", 429),
        ("eks", "ListClusters", "http503", eks.list_clusters, {}, "ServiceUnavailable", 503),
        ("ec2", "DescribeVpcs", "http500", ec2.describe_vpcs, {}, "InternalError", 500),
        ("eks", "ListClusters", "http500", eks.list_clusters, {}, "ServerException", 500),
        ("iam", "ListRoles", "http500", iam.list_roles, {}, "ServiceFailure", 500),
        ("ec2", "CreateVpc", "deny", ec2.create_vpc, {"CidrBlock": "10.1.0.0/16"}, "UnauthorizedOperation", 403),
        ("iam", "CreateRole", "deny", iam.create_role, {"RoleName": "r", "AssumeRolePolicyDocument": "{}"},
         "AccessDenied", 403),
        ("eks", "DescribeCluster", "deny", eks.describe_cluster, {"name": "x"}, "AccessDeniedException", 403),
        # CloudWatch Logs: JSON protocol, the action from X-Amz-Target.
        ("logs", "DescribeLogGroups", "throttle", logs.describe_log_groups, {}, "ThrottlingException", 400),
        ("logs", "CreateLogGroup", "deny", logs.create_log_group, {"logGroupName": "/denied"},
         "AccessDeniedException", 403),
        # SQS and EventBridge (Karpenter's queue and rules): JSON protocol too.
        ("sqs", "ListQueues", "throttle", sqs.list_queues, {}, "RequestThrottled", 400),
        ("events", "ListRules", "throttle", events.list_rules, {}, "ThrottlingException", 400),
        ("events", "PutRule", "deny", events.put_rule, {"Name": "denied", "EventPattern": "{}"},
         "AccessDeniedException", 403),
    ]
    for service, action, kind, fn, kwargs, code, status in cases:
        schedule(url, {"service": service, "action": action, "kind": kind, "count": 1})
        err = expect(fn, code, status, **kwargs)
        if service == "eks":
            assert err.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
        stats = control(url, "/fault-proxy/stats")
        assert stats["injected"] == {kind: 1} and stats["forwarded"] == 0, stats
        fn(**kwargs) if kind != "deny" else None  # count 1: the next call goes through
    # A denied CreateVpc (or CreateLogGroup) never reached moto.
    assert not [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.1.0.0/16"]
    assert not logs.describe_log_groups(logGroupNamePrefix="/denied")["logGroups"]
    logs.describe_log_groups()
    assert control(url, "/fault-proxy/stats")["actions"].get("logs:DescribeLogGroups") == 2
    assert not [r for r in events.list_rules()["Rules"] if r["Name"] == "denied"]


def check_reset_slow_nth_and_probability(url):
    ec2 = client(url, "ec2")
    schedule(url, {"action": "DescribeVpcs", "kind": "reset", "count": 1})
    try:
        ec2.describe_vpcs()
        raise AssertionError("expected a reset")
    except (ConnectionClosedError, EndpointConnectionError, ConnectionError):
        pass
    ec2.describe_vpcs()

    schedule(url, {"action": "DescribeVpcs", "kind": "slow", "delay": 0.5})
    started = time.time()
    ec2.describe_vpcs()
    assert time.time() - started >= 0.5

    schedule(url, {"action": "DescribeSubnets", "region": "eu-west-1", "kind": "throttle", "nth": [2, 3]})
    ec2.describe_subnets()
    expect(ec2.describe_subnets, "RequestLimitExceeded", 503)
    expect(ec2.describe_subnets, "RequestLimitExceeded", 503)
    ec2.describe_subnets()
    client(url, "ec2", "us-east-1").describe_subnets()  # other regions untouched

    schedule(url, {"action": "DescribeSubnets", "body": "SubnetId.1=subnet-nope", "kind": "deny"})
    ec2.describe_subnets()
    expect(ec2.describe_subnets, "UnauthorizedOperation", 403, SubnetIds=["subnet-nope"])

    # Seeded: the same seed hits the same calls.
    hits = []
    for _ in range(2):
        schedule(url, {"service": "ec2", "kind": ["throttle", "http500", "http503"], "probability": 0.3}, seed=42)
        outcome = []
        for _ in range(60):
            try:
                ec2.describe_vpcs()
                outcome.append("ok")
            except ClientError as err:
                outcome.append(err.response["Error"]["Code"])
        hits.append(outcome)
    assert hits[0] == hits[1]
    failed = sum(o != "ok" for o in hits[0])
    assert 8 <= failed <= 30, failed
    stats = control(url, "/fault-proxy/stats")
    assert stats["injected_total"] == failed and stats["actions"]["ec2:DescribeVpcs"] == 60 - failed, stats


def check_peering_timing(url):
    east, west = client(url, "ec2", "us-east-1"), client(url, "ec2", "us-west-2")
    a = east.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    b = west.create_vpc(CidrBlock="10.21.0.0/16")["Vpc"]["VpcId"]
    schedule(url, {"kind": "peering_pending", "polls": 2})
    pcx = east.create_vpc_peering_connection(VpcId=a, PeerVpcId=b, PeerRegion="us-west-2")
    pcx = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]

    def status(ec2):
        return ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])[
            "VpcPeeringConnections"][0]["Status"]["Code"]

    assert [status(east), status(east), status(east)] == ["initiating-request"] * 2 + ["pending-acceptance"]
    accepted = west.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert accepted["VpcPeeringConnection"]["Status"]["Code"] == "provisioning"
    options = {"AllowDnsResolutionFromRemoteVpc": True}
    expect(east.modify_vpc_peering_connection_options, "OperationNotPermitted", 400,
           VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions=options)
    assert [status(east), status(west), status(east)] == ["pending-acceptance"] * 2 + ["active"]
    east.modify_vpc_peering_connection_options(VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions=options)


def check_cluster_timing(url):
    ec2, eks = client(url, "ec2"), client(url, "eks")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]
    schedule(url, {"kind": "cluster_creating", "polls": 2})
    created = eks.create_cluster(name="slow", version="1.33", roleArn=ROLE,
                                 resourcesVpcConfig={"subnetIds": [subnet["SubnetId"]]})
    assert created["cluster"]["status"] == "CREATING"
    states = [eks.describe_cluster(name="slow")["cluster"]["status"] for _ in range(3)]
    assert states == ["CREATING", "CREATING", "ACTIVE"], states
    stats = control(url, "/fault-proxy/stats")
    assert stats["injected"] == {"cluster_creating": 2}, stats
    assert stats["actions"]["eks:CreateCluster"] == 1 and stats["actions"]["eks:DescribeCluster"] == 3, stats


def main():
    procs, url = start()
    try:
        check_errors(url)
        check_reset_slow_nth_and_probability(url)
        check_peering_timing(url)
        check_cluster_timing(url)
        control(url, "/fault-proxy/clear", {})
        assert control(url, "/fault-proxy/stats")["injected_total"] == 0
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    print("fault_proxy self-check: OK")


if __name__ == "__main__":
    main()
