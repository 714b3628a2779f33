#!/usr/bin/env python3
"""Self-check for tools/moto_fleet.py: `python tools/test_moto_fleet.py`.

Starts moto_fleet.py on free ports (once settling at once, once with
MOTO_FLEET_DELAY_SECONDS) and drives every operation it adds through boto3,
plus a pass-through check that plain moto (EC2, /moto-api/) still answers.
Plain asserts; exits non-zero on the first failure.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-cluster"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
DEV_ROLE = f"arn:aws:iam::{ACCOUNT}:role/team/dev"  # a path: "/" inside a URI label
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def start(delay=None):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_FLEET_REALISM="none")
    if delay:
        env["MOTO_FLEET_DELAY_SECONDS"] = str(delay)
    proc = subprocess.Popen([sys.executable, str(HERE / "moto_fleet.py"), "-H", "127.0.0.1", "-p", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto_fleet.py did not start")


def client(url, service, region="eu-west-1"):
    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="secret")


def error(fn, code, status, **kwargs):
    """Call fn, expect an EKS-style error, return its message."""
    try:
        fn(**kwargs)
    except ClientError as err:
        meta = err.response["ResponseMetadata"]
        assert err.response["Error"]["Code"] == code, (code, err.response["Error"])
        assert meta["HTTPStatusCode"] == status, (status, meta["HTTPStatusCode"])
        assert meta["HTTPHeaders"].get("x-amzn-errortype") == code, meta["HTTPHeaders"]
        return err.response["Error"]["Message"]
    raise AssertionError(f"expected {code} from {fn.__name__}")


def network(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    return vpc, subnets


def new_cluster(eks, name, subnets, **extra):
    return eks.create_cluster(name=name, version="1.29", roleArn=ROLE,
                              resourcesVpcConfig={"subnetIds": subnets}, **extra)["cluster"]


def check_passthrough(url):
    ec2 = client(url, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert any(v["VpcId"] == vpc for v in ec2.describe_vpcs()["Vpcs"])
    data = json.load(urllib.request.urlopen(url + "/moto-api/data.json"))
    assert "ec2" in data
    iam = client(url, "iam", "us-east-1")  # managed policies loaded from the environment
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")["Policy"]


def check_clusters(url, eks, ec2, subnets, vpc):
    c = new_cluster(eks, "c1", subnets, accessConfig={"authenticationMode": "API"},
                    logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert c["status"] == "ACTIVE"
    assert c["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
    vpc_cfg = c["resourcesVpcConfig"]
    assert vpc_cfg["vpcId"] == vpc and vpc_cfg["endpointPublicAccess"] and not vpc_cfg["endpointPrivateAccess"]
    assert vpc_cfg["publicAccessCidrs"] == ["0.0.0.0/0"] and vpc_cfg["subnetIds"] == subnets
    sg = vpc_cfg["clusterSecurityGroupId"]
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["VpcId"] == vpc
    d = eks.describe_cluster(name="c1")["cluster"]
    assert d["accessConfig"]["authenticationMode"] == "API" and d["resourcesVpcConfig"] == vpc_cfg
    # The creator gets an admin access entry (the default caller is moto's "user/moto").
    creator = f"arn:aws:iam::{ACCOUNT}:user/moto"
    assert eks.list_access_entries(clusterName="c1")["accessEntries"] == [creator]
    assert [p["policyArn"] for p in eks.list_associated_access_policies(
        clusterName="c1", principalArn=creator)["associatedAccessPolicies"]] == [ADMIN]

    c2 = new_cluster(eks, "c2", subnets)
    assert c2["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    error(eks.create_access_entry, "InvalidRequestException", 400, clusterName="c2", principalArn=DEV_ROLE)
    error(eks.list_access_entries, "InvalidRequestException", 400, clusterName="c2")

    # UpdateClusterConfig: an Update per change, merged VPC config, EKS's refusals.
    u = eks.update_cluster_config(name="c1", resourcesVpcConfig={"endpointPrivateAccess": True})["update"]
    assert u["status"] == "Successful" and u["type"] == "EndpointAccessUpdate" and u["id"]
    assert {"type": "EndpointPrivateAccess", "value": "true"} in u["params"]
    assert eks.describe_update(name="c1", updateId=u["id"])["update"]["status"] == "Successful"
    vpc_cfg = eks.describe_cluster(name="c1")["cluster"]["resourcesVpcConfig"]
    assert vpc_cfg["endpointPrivateAccess"] and vpc_cfg["subnetIds"] == subnets and vpc_cfg["vpcId"] == vpc
    error(eks.update_cluster_config, "InvalidParameterException", 400,
          name="c1", resourcesVpcConfig={"endpointPrivateAccess": True})
    u = eks.update_cluster_config(name="c1", logging={"clusterLogging": [
        {"types": ["audit"], "enabled": True}, {"types": ["api"], "enabled": False}]})["update"]
    assert u["type"] == "LoggingUpdate"
    logging = eks.describe_cluster(name="c1")["cluster"]["logging"]["clusterLogging"]
    assert {"types": ["audit"], "enabled": True} in logging
    error(eks.update_cluster_config, "InvalidParameterException", 400,
          name="c1", logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]})
    error(eks.update_cluster_config, "InvalidParameterException", 400, name="c1",
          logging={"clusterLogging": [{"types": ["api"], "enabled": True}]},
          resourcesVpcConfig={"endpointPublicAccess": False})
    error(eks.update_cluster_config, "InvalidParameterException", 400,
          name="c1", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    u = eks.update_cluster_config(name="c2", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
    assert u["type"] == "AccessConfigUpdate"
    assert eks.describe_cluster(name="c2")["cluster"]["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert eks.list_access_entries(clusterName="c2")["accessEntries"] == []  # no bootstrap on update
    assert [x["id"] for x in [u]] == eks.list_updates(name="c2")["updateIds"]
    error(eks.update_cluster_config, "ResourceNotFoundException", 404, name="nope", logging={"clusterLogging": []})


def check_addons(eks):
    versions = eks.describe_addon_versions(addonName="kube-proxy", kubernetesVersion="1.29")["addons"]
    assert [v["addonVersion"] for v in versions[0]["addonVersions"]] == ["v1.29.0-eksbuild.1"]
    assert {a["addonName"] for a in eks.describe_addon_versions()["addons"]} >= {"vpc-cni", "coredns", "kube-proxy"}
    paged = eks.describe_addon_versions(maxResults=2)
    assert len(paged["addons"]) == 2 and paged["nextToken"]

    a = eks.create_addon(clusterName="c1", addonName="vpc-cni", tags={"team": "net"},
                         configurationValues='{"env":{"WARM_IP_TARGET":"2"}}')["addon"]
    assert a["status"] == "ACTIVE" and a["addonVersion"] == "v1.19.0-eksbuild.1"
    assert a["addonArn"].startswith(f"arn:aws:eks:eu-west-1:{ACCOUNT}:addon/c1/vpc-cni/")
    assert a["configurationValues"] == '{"env":{"WARM_IP_TARGET":"2"}}' and a["tags"] == {"team": "net"}
    assert a["createdAt"] and a["modifiedAt"] and a["health"] == {"issues": []}
    kp = eks.create_addon(clusterName="c1", addonName="kube-proxy")["addon"]
    assert kp["addonVersion"] == "v1.29.0-eksbuild.1"
    error(eks.create_addon, "ResourceInUseException", 409, clusterName="c1", addonName="vpc-cni")
    error(eks.create_addon, "InvalidParameterException", 400, clusterName="c1", addonName="no-such-addon")
    error(eks.create_addon, "InvalidParameterException", 400, clusterName="c1", addonName="coredns",
          addonVersion="latest")
    assert sorted(eks.list_addons(clusterName="c1")["addons"]) == ["kube-proxy", "vpc-cni"]
    assert len(eks.list_addons(clusterName="c1", maxResults=1)["addons"]) == 1

    u = eks.update_addon(clusterName="c1", addonName="vpc-cni", addonVersion="v1.18.6-eksbuild.1",
                         resolveConflicts="OVERWRITE", configurationValues="{}")["update"]
    assert u["type"] == "AddonUpdate" and u["status"] == "Successful"
    assert {"type": "AddonVersion", "value": "v1.18.6-eksbuild.1"} in u["params"]
    assert eks.describe_update(name="c1", updateId=u["id"], addonName="vpc-cni")["update"]["id"] == u["id"]
    error(eks.describe_update, "ResourceNotFoundException", 404, name="c1", updateId=u["id"])
    assert eks.list_updates(name="c1", addonName="vpc-cni")["updateIds"] == [u["id"]]
    a = eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]
    assert a["addonVersion"] == "v1.18.6-eksbuild.1" and a["configurationValues"] == "{}"

    eks.tag_resource(resourceArn=a["addonArn"], tags={"env": "test"})
    assert eks.list_tags_for_resource(resourceArn=a["addonArn"])["tags"] == {"team": "net", "env": "test"}
    eks.untag_resource(resourceArn=a["addonArn"], tagKeys=["team"])
    assert eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]["tags"] == {"env": "test"}

    assert eks.delete_addon(clusterName="c1", addonName="vpc-cni")["addon"]["status"] == "DELETING"
    msg = error(eks.describe_addon, "ResourceNotFoundException", 404, clusterName="c1", addonName="vpc-cni")
    assert "vpc-cni" in msg
    error(eks.delete_addon, "ResourceNotFoundException", 404, clusterName="c1", addonName="vpc-cni")
    error(eks.update_addon, "ResourceNotFoundException", 404, clusterName="c1", addonName="vpc-cni")
    for op in (eks.describe_addon, eks.delete_addon, eks.create_addon):
        error(op, "ResourceNotFoundException", 404, clusterName="nope", addonName="vpc-cni")
    error(eks.list_addons, "ResourceNotFoundException", 404, clusterName="nope")


def check_access_entries(eks):
    e = eks.create_access_entry(clusterName="c1", principalArn=DEV_ROLE, kubernetesGroups=["devs"],
                                tags={"k": "v"})["accessEntry"]
    assert e["type"] == "STANDARD" and e["kubernetesGroups"] == ["devs"]
    assert e["username"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/{{{{SessionName}}}}"
    assert e["accessEntryArn"].startswith(f"arn:aws:eks:eu-west-1:{ACCOUNT}:access-entry/c1/role/{ACCOUNT}/dev/")
    node = eks.create_access_entry(clusterName="c1", principalArn=NODE_ROLE, type="EC2_LINUX")["accessEntry"]
    assert node["username"] == "system:node:{{EC2PrivateDNSName}}"
    error(eks.create_access_entry, "ResourceInUseException", 409, clusterName="c1", principalArn=DEV_ROLE)
    error(eks.create_access_entry, "InvalidParameterException", 400, clusterName="c1",
          principalArn=f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/session")
    error(eks.create_access_entry, "InvalidParameterException", 400, clusterName="c1",
          principalArn=f"arn:aws:iam::{ACCOUNT}:role/x", type="EC2_LINUX", kubernetesGroups=["g"])
    error(eks.create_access_entry, "ResourceNotFoundException", 404, clusterName="nope", principalArn=DEV_ROLE)

    assert eks.describe_access_entry(clusterName="c1", principalArn=DEV_ROLE)["accessEntry"] == e
    e2 = eks.update_access_entry(clusterName="c1", principalArn=DEV_ROLE, kubernetesGroups=["devs", "ops"])
    assert e2["accessEntry"]["kubernetesGroups"] == ["devs", "ops"]
    assert DEV_ROLE in eks.list_access_entries(clusterName="c1")["accessEntries"]

    r = eks.associate_access_policy(clusterName="c1", principalArn=DEV_ROLE, policyArn=VIEW,
                                    accessScope={"type": "namespace", "namespaces": ["apps"]})
    assert r["principalArn"] == DEV_ROLE and r["clusterName"] == "c1"
    assert r["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["apps"]}
    r = eks.associate_access_policy(clusterName="c1", principalArn=DEV_ROLE, policyArn=VIEW,
                                    accessScope={"type": "cluster"})  # re-associating changes the scope
    assert r["associatedAccessPolicy"]["accessScope"]["type"] == "cluster"
    error(eks.associate_access_policy, "InvalidParameterException", 400, clusterName="c1", principalArn=DEV_ROLE,
          policyArn="arn:aws:iam::aws:policy/ReadOnlyAccess", accessScope={"type": "cluster"})
    error(eks.associate_access_policy, "InvalidParameterException", 400, clusterName="c1", principalArn=DEV_ROLE,
          policyArn=VIEW, accessScope={"type": "namespace"})
    listed = eks.list_associated_access_policies(clusterName="c1", principalArn=DEV_ROLE)
    assert [p["policyArn"] for p in listed["associatedAccessPolicies"]] == [VIEW]
    assert eks.list_access_entries(clusterName="c1", associatedPolicyArn=VIEW)["accessEntries"] == [DEV_ROLE]
    eks.disassociate_access_policy(clusterName="c1", principalArn=DEV_ROLE, policyArn=VIEW)
    error(eks.disassociate_access_policy, "ResourceNotFoundException", 404, clusterName="c1",
          principalArn=DEV_ROLE, policyArn=VIEW)
    assert eks.list_associated_access_policies(
        clusterName="c1", principalArn=DEV_ROLE)["associatedAccessPolicies"] == []

    eks.tag_resource(resourceArn=e["accessEntryArn"], tags={"k2": "v2"})
    assert eks.list_tags_for_resource(resourceArn=e["accessEntryArn"])["tags"] == {"k": "v", "k2": "v2"}
    eks.delete_access_entry(clusterName="c1", principalArn=DEV_ROLE)
    error(eks.describe_access_entry, "ResourceNotFoundException", 404, clusterName="c1", principalArn=DEV_ROLE)
    error(eks.delete_access_entry, "ResourceNotFoundException", 404, clusterName="c1", principalArn=DEV_ROLE)
    error(eks.list_associated_access_policies, "ResourceNotFoundException", 404,
          clusterName="c1", principalArn=DEV_ROLE)


def check_versions(eks, subnets):
    ng = eks.create_nodegroup(clusterName="c1", nodegroupName="ng1", subnets=subnets, nodeRole=NODE_ROLE)
    ng = ng["nodegroup"]
    assert ng["version"] == "1.29" and ng["releaseVersion"].startswith("1.29.")  # moto alone: 1.19
    eks.create_nodegroup(clusterName="c1", nodegroupName="ng2", subnets=subnets, nodeRole=NODE_ROLE)

    # UpdateNodegroupConfig is moto's; its Update is now kept for DescribeUpdate.
    u = eks.update_nodegroup_config(clusterName="c1", nodegroupName="ng1",
                                    scalingConfig={"minSize": 1, "maxSize": 5, "desiredSize": 3},
                                    labels={"addOrUpdateLabels": {"role": "web"}})["update"]
    assert eks.describe_update(name="c1", updateId=u["id"], nodegroupName="ng1")["update"]["id"] == u["id"]
    assert eks.list_updates(name="c1", nodegroupName="ng1")["updateIds"] == [u["id"]]
    ng1 = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng1")["nodegroup"]
    assert ng1["scalingConfig"] == {"minSize": 1, "maxSize": 5, "desiredSize": 3} and ng1["labels"] == {"role": "web"}
    ng2 = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng2")["nodegroup"]
    assert ng2["scalingConfig"] == {"minSize": 2, "maxSize": 2, "desiredSize": 2}  # moto shared one dict
    eks.tag_resource(resourceArn=ng2["nodegroupArn"], tags={"t": "1"})
    assert eks.list_tags_for_resource(resourceArn=ng2["nodegroupArn"])["tags"] == {"t": "1"}

    msg = error(eks.update_cluster_version, "InvalidParameterException", 400, name="c1", version="1.31")
    assert "1.29 to 1.31" in msg
    error(eks.update_cluster_version, "ResourceNotFoundException", 404, name="nope", version="1.30")
    error(eks.update_nodegroup_version, "InvalidParameterException", 400,
          clusterName="c1", nodegroupName="ng1", version="1.30")  # ahead of the control plane
    u = eks.update_cluster_version(name="c1", version="1.30")["update"]
    assert u["type"] == "VersionUpdate" and u["status"] == "Successful" and u["errors"] == []
    assert {"type": "Version", "value": "1.30"} in u["params"] and u["createdAt"]
    assert eks.describe_cluster(name="c1")["cluster"]["version"] == "1.30"
    assert eks.describe_update(name="c1", updateId=u["id"])["update"] == u
    assert u["id"] in eks.list_updates(name="c1")["updateIds"]
    error(eks.describe_update, "ResourceNotFoundException", 404, name="c1", updateId="no-such-update")
    # Node groups must catch up before the next control-plane upgrade.
    error(eks.update_cluster_version, "InvalidRequestException", 400, name="c1", version="1.31")

    u = eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng1")["update"]
    assert u["type"] == "VersionUpdate" and u["status"] == "Successful"
    ng1 = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng1")["nodegroup"]
    assert ng1["version"] == "1.30" and ng1["releaseVersion"].startswith("1.30.")
    assert eks.describe_update(name="c1", updateId=u["id"], nodegroupName="ng1")["update"]["status"] == "Successful"
    error(eks.describe_update, "ResourceNotFoundException", 404, name="c1", updateId=u["id"])
    u = eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng2", version="1.30",
                                     releaseVersion="1.30.4-20250201")["update"]
    assert {"type": "ReleaseVersion", "value": "1.30.4-20250201"} in u["params"]
    error(eks.update_nodegroup_version, "ResourceNotFoundException", 404, clusterName="c1", nodegroupName="nope")
    assert eks.update_cluster_version(name="c1", version="1.31")["update"]["status"] == "Successful"


def check_deletion(eks, ec2, subnets):
    sg = eks.describe_cluster(name="c1")["cluster"]["resourcesVpcConfig"]["clusterSecurityGroupId"]
    error(eks.delete_cluster, "ResourceInUseException", 409, name="c1")  # node groups still attached
    for ng in ("ng1", "ng2"):
        eks.delete_nodegroup(clusterName="c1", nodegroupName=ng)
    assert eks.delete_cluster(name="c1")["cluster"]["status"] == "DELETING"
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroups"]
    error(eks.describe_addon, "ResourceNotFoundException", 404, clusterName="c1", addonName="kube-proxy")
    error(eks.list_updates, "ResourceNotFoundException", 404, name="c1")
    new_cluster(eks, "c1", subnets, accessConfig={"authenticationMode": "API",
                                                  "bootstrapClusterCreatorAdminPermissions": False})
    assert eks.list_addons(clusterName="c1")["addons"] == []  # the old cluster's add-ons are gone
    assert eks.list_access_entries(clusterName="c1")["accessEntries"] == []
    assert eks.list_updates(name="c1")["updateIds"] == []


def check_scoping(url, subnets):
    other_region = client(url, "eks", "us-west-2")
    error(other_region.describe_addon, "ResourceNotFoundException", 404, clusterName="c1", addonName="kube-proxy")
    assert other_region.list_clusters()["clusters"] == []
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"))
    assert client(url, "eks").list_clusters()["clusters"] == []


def check_delays():
    proc, url = start(delay=1)
    try:
        eks, ec2 = client(url, "eks"), client(url, "ec2")
        _, subnets = network(ec2)
        assert new_cluster(eks, "slow", subnets, accessConfig={"authenticationMode": "API"})["status"] == "CREATING"
        error(eks.create_addon, "InvalidRequestException", 400, clusterName="slow", addonName="coredns")
        time.sleep(1.2)
        assert eks.describe_cluster(name="slow")["cluster"]["status"] == "ACTIVE"
        assert eks.create_addon(clusterName="slow", addonName="coredns")["addon"]["status"] == "CREATING"
        u = eks.update_cluster_version(name="slow", version="1.30")["update"]
        assert u["status"] == "InProgress"
        c = eks.describe_cluster(name="slow")["cluster"]
        assert c["status"] == "UPDATING" and c["version"] == "1.29"
        error(eks.update_cluster_version, "ResourceInUseException", 409, name="slow", version="1.30")
        time.sleep(1.2)
        assert eks.describe_update(name="slow", updateId=u["id"])["update"]["status"] == "Successful"
        c = eks.describe_cluster(name="slow")["cluster"]
        assert c["status"] == "ACTIVE" and c["version"] == "1.30"
        assert eks.describe_addon(clusterName="slow", addonName="coredns")["addon"]["status"] == "ACTIVE"
        assert eks.delete_addon(clusterName="slow", addonName="coredns")["addon"]["status"] == "DELETING"
        assert eks.describe_addon(clusterName="slow", addonName="coredns")["addon"]["status"] == "DELETING"
        time.sleep(1.2)
        error(eks.describe_addon, "ResourceNotFoundException", 404, clusterName="slow", addonName="coredns")
    finally:
        proc.terminate()
        proc.wait(10)


def check_iam_authorization():
    """With IAM enforced, EKS calls are allowed or denied by the caller's policies."""
    proc, url = start()
    try:
        iam = client(url, "iam", "us-east-1")
        iam.create_user(UserName="lister")
        iam.put_user_policy(UserName="lister", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["eks:ListClusters", "iam:CreateRole"], "Resource": "*"}]}))
        key = iam.create_access_key(UserName="lister")["AccessKey"]
        request = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        assert json.load(urllib.request.urlopen(request))["status"] == "ok"
        as_lister = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        eks = boto3.client("eks", endpoint_url=url, region_name="eu-west-1", **as_lister)
        assert eks.list_clusters()["clusters"] == []
        message = error(eks.describe_cluster, "AccessDeniedException", 403, name="x")
        assert "user/lister is not authorized to perform: eks:DescribeCluster" in message, message
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", **as_lister)
        # A policy document with JSON punctuation in the form body: allowed (moto's
        # own signature check would refuse it from any SDK encoding unlike Python's).
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Statement": []}))
        try:
            iam.list_roles()
            raise AssertionError("iam:ListRoles is not in the policy")
        except ClientError as err:
            assert err.response["Error"]["Code"] == "AccessDenied", err.response
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    proc, url = start()
    try:
        check_passthrough(url)
        eks, ec2 = client(url, "eks"), client(url, "ec2")
        vpc, subnets = network(ec2)
        check_clusters(url, eks, ec2, subnets, vpc)
        check_addons(eks)
        check_access_entries(eks)
        check_versions(eks, subnets)
        check_deletion(eks, ec2, subnets)
        check_scoping(url, subnets)
        check_passthrough(url)
    finally:
        proc.terminate()
        proc.wait(10)
    check_delays()
    check_iam_authorization()
    print("moto_fleet self-check: OK")


if __name__ == "__main__":
    main()
