#!/usr/bin/env python3
"""Self-check for tools/moto_fleet.py: `python tools/test_moto_fleet.py`.

Starts moto_fleet.py on free ports (once settling at once, once with
MOTO_FLEET_DELAY_SECONDS) and drives every operation it adds through boto3,
plus a pass-through check that plain moto (EC2, /moto-api/) still answers.
Plain asserts; exits non-zero on the first failure.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3

import local_server
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-cluster"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
DEV_ROLE = f"arn:aws:iam::{ACCOUNT}:role/team/dev"  # a path: "/" inside a URI label
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def start(delay=None, realism="none", scale=None, tls_cert=None):
    """A moto_fleet on a free port. The checks written before the realism
    switches assume moto's instant settling: they run with realism "none"."""
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_FLEET_REALISM=realism)
    env.pop("MOTO_FLEET_DELAY_SECONDS", None)
    if delay:
        env["MOTO_FLEET_DELAY_SECONDS"] = str(delay)
    if scale is not None:
        env["MOTO_FLEET_TIME_SCALE"] = str(scale)
    # The TLS listener takes the port after the HTTP one (check_secure_transport).
    tls = (lambda port: ["--tls-port", str(port + 1), "--tls-cert-out", tls_cert]) if tls_cert else ()
    return local_server.start_moto_fleet(env, extra_args=tls)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


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


def new_cluster(eks, name, subnets, version="1.32", **extra):
    return eks.create_cluster(name=name, version=version, roleArn=ROLE,
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


def check_cluster_versions(url, eks, subnets):
    """DescribeClusterVersions over the calendar table, its filters, paging and
    the control endpoint that moves it; CreateCluster's version and upgradePolicy."""
    now = time.time()
    listed = eks.describe_cluster_versions()["clusterVersions"]
    names = [v["clusterVersion"] for v in listed]
    assert names == sorted(names, key=lambda v: tuple(map(int, v.split("."))), reverse=True), names
    assert {"1.32", "1.35", "1.36"} <= set(names) and "1.29" not in names  # past extended support
    for v in listed:
        assert v["clusterType"] == "eks" and v["defaultPlatformVersion"].startswith("eks.")
        assert v["kubernetesPatchVersion"].startswith(v["clusterVersion"] + ".")
        std, ext = v["endOfStandardSupportDate"].timestamp(), v["endOfExtendedSupportDate"].timestamp()
        assert v["releaseDate"].timestamp() < std < ext
        want = "STANDARD_SUPPORT" if now < std else "EXTENDED_SUPPORT"
        assert v["versionStatus"] == want and v["status"] == want.lower().replace("_", "-"), v
    newest_standard = next(v["clusterVersion"] for v in listed if v["versionStatus"] == "STANDARD_SUPPORT")
    assert [v["clusterVersion"] for v in listed if v["defaultVersion"]] == [newest_standard]
    everything = eks.describe_cluster_versions(includeAll=True)["clusterVersions"]
    assert "1.29" in [v["clusterVersion"] for v in everything]
    assert {v["versionStatus"] for v in everything} >= {"UNSUPPORTED", "STANDARD_SUPPORT"}
    only = eks.describe_cluster_versions(clusterVersions=["1.33", "1.35"])["clusterVersions"]
    assert [v["clusterVersion"] for v in only] == ["1.35", "1.33"]
    assert [v["clusterVersion"] for v in eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"]] \
        == [newest_standard]
    assert all(v["versionStatus"] == "EXTENDED_SUPPORT" for v in
               eks.describe_cluster_versions(versionStatus="EXTENDED_SUPPORT")["clusterVersions"])
    assert [v["clusterVersion"] for v in eks.describe_cluster_versions(status="unsupported")["clusterVersions"]] \
        == ["1.31", "1.30", "1.29"]
    assert eks.describe_cluster_versions(clusterType="eks-local-outposts")["clusterVersions"] == []
    first = eks.describe_cluster_versions(maxResults=2)
    rest = eks.describe_cluster_versions(maxResults=2, nextToken=first["nextToken"])
    assert [v["clusterVersion"] for v in first["clusterVersions"] + rest["clusterVersions"]] == names[:4]
    error(eks.describe_cluster_versions, "InvalidParameterException", 400, maxResults=101)

    # CreateCluster: a version EKS does not offer is refused as EKS words it;
    # no version means the default; upgradePolicy is kept (EXTENDED by default).
    msg = error(eks.create_cluster, "InvalidParameterException", 400, name="v0", version="1.31", roleArn=ROLE,
                resourcesVpcConfig={"subnetIds": subnets})
    assert msg == "unsupported Kubernetes version 1.31", msg
    error(eks.create_cluster, "InvalidParameterException", 400, name="v0", version="1.99", roleArn=ROLE,
          resourcesVpcConfig={"subnetIds": subnets})
    c = eks.create_cluster(name="v1", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})["cluster"]
    assert c["version"] == newest_standard and c["upgradePolicy"] == {"supportType": "EXTENDED"}, c
    c = new_cluster(eks, "v2", subnets, upgradePolicy={"supportType": "STANDARD"})
    assert eks.describe_cluster(name="v2")["cluster"]["upgradePolicy"] == {"supportType": "STANDARD"}
    error(eks.create_cluster, "InvalidParameterException", 400, name="v3", roleArn=ROLE,
          resourcesVpcConfig={"subnetIds": subnets}, upgradePolicy={"supportType": "FOREVER"})
    u = eks.update_cluster_config(name="v2", upgradePolicy={"supportType": "EXTENDED"})["update"]
    assert u["type"] == "UpgradePolicyUpdate" and u["status"] == "Successful"
    assert eks.describe_cluster(name="v2")["cluster"]["upgradePolicy"] == {"supportType": "EXTENDED"}

    # Tests move the table: a new version appears, then the calendar comes back.
    day = 86400
    added = post(url, "/moto-fleet/cluster-versions", {"add": [{
        "clusterVersion": "1.37", "releaseDate": now - day, "endOfStandardSupportDate": now + 400 * day,
        "endOfExtendedSupportDate": now + 765 * day}]})
    assert added["clusterVersions"][0]["clusterVersion"] == "1.37"
    assert eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"][0]["clusterVersion"] == "1.37"
    assert new_cluster(eks, "v4", subnets, version="1.37")["version"] == "1.37"
    bad = urllib.request.Request(url + "/moto-fleet/cluster-versions", method="POST",
                                 data=json.dumps({"add": [{"clusterVersion": "v1"}]}).encode())
    try:
        urllib.request.urlopen(bad)
        raise AssertionError("a malformed row is refused")
    except urllib.error.HTTPError as err:
        assert err.code == 400
    post(url, "/moto-fleet/cluster-versions", {"reset": True})
    assert "1.37" not in [v["clusterVersion"] for v in eks.describe_cluster_versions()["clusterVersions"]]
    for name in ("v1", "v2", "v4"):
        eks.delete_cluster(name=name)


def check_addons(eks):
    versions = eks.describe_addon_versions(addonName="kube-proxy", kubernetesVersion="1.32")["addons"]
    assert [v["addonVersion"] for v in versions[0]["addonVersions"]] == ["v1.32.0-eksbuild.1"]
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
    assert kp["addonVersion"] == "v1.32.0-eksbuild.1"
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


POD_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
EBS_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


def pod_role(iam, name):
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=POD_TRUST)["Role"]["Arn"]


def associations(eks, cluster, **filters):
    return eks.list_pod_identity_associations(clusterName=cluster, **filters)["associations"]


def check_addon_configuration(eks):
    """DescribeAddonConfiguration: the schema and the add-on's service accounts
    with the policies EKS recommends; none for add-ons that call no AWS API."""
    c = eks.describe_addon_configuration(addonName="aws-ebs-csi-driver", addonVersion="v1.37.0-eksbuild.1")
    assert c["addonName"] == "aws-ebs-csi-driver" and c["addonVersion"] == "v1.37.0-eksbuild.1"
    assert c["podIdentityConfiguration"] == [{"serviceAccount": "ebs-csi-controller-sa",
                                              "recommendedManagedPolicies": [EBS_POLICY]}], c
    schema = json.loads(c["configurationSchema"])
    assert schema["type"] == "object" and "controller" in schema["properties"], schema
    cw = eks.describe_addon_configuration(addonName="amazon-cloudwatch-observability",
                                          addonVersion="v2.6.0-eksbuild.1")["podIdentityConfiguration"]
    assert cw == [{"serviceAccount": "cloudwatch-agent", "recommendedManagedPolicies": [
        "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"]}]
    for name, version in (("coredns", "v1.11.3-eksbuild.2"), ("kube-proxy", "v1.32.0-eksbuild.1"),
                          ("eks-pod-identity-agent", "v1.3.4-eksbuild.1")):
        c = eks.describe_addon_configuration(addonName=name, addonVersion=version)
        assert c["podIdentityConfiguration"] == [] and json.loads(c["configurationSchema"]), (name, c)
    error(eks.describe_addon_configuration, "ResourceNotFoundException", 404,
          addonName="no-such-addon", addonVersion="v1.0.0-eksbuild.1")
    error(eks.describe_addon_configuration, "ResourceNotFoundException", 404,
          addonName="aws-ebs-csi-driver", addonVersion="v9.9.9-eksbuild.1")
    error(eks.describe_addon_configuration, "InvalidParameterException", 400,
          addonName="aws-ebs-csi-driver", addonVersion="latest")
    versions = eks.describe_addon_versions(addonName="amazon-cloudwatch-observability")["addons"][0]
    assert versions["defaultNamespace"] == "amazon-cloudwatch", versions


def check_pod_identity(url, eks):
    """Pod Identity associations: create, describe, list, update, tag, delete;
    EKS's refusals (a second association for a service account, a role IAM
    doesn't have, a malformed id, a cluster not ACTIVE or missing)."""
    iam = client(url, "iam", "us-east-1")
    role, role2 = pod_role(iam, "pod-app"), pod_role(iam, "pod-app-2")
    a = eks.create_pod_identity_association(clusterName="c1", namespace="apps", serviceAccount="web",
                                            roleArn=role, tags={"team": "web"})["association"]
    assert a["clusterName"] == "c1" and a["namespace"] == "apps" and a["serviceAccount"] == "web"
    assert a["roleArn"] == role and a["tags"] == {"team": "web"} and "ownerArn" not in a
    assert len(a["associationId"]) == 19 and a["associationId"].startswith("a-")
    assert a["associationId"][2:].isalnum() and a["associationId"] == a["associationId"].lower()
    assert a["associationArn"] == f"arn:aws:eks:eu-west-1:{ACCOUNT}:podidentityassociation/c1/{a['associationId']}"
    assert a["createdAt"] and a["modifiedAt"]
    assoc_id = a["associationId"]
    assert eks.describe_pod_identity_association(clusterName="c1", associationId=assoc_id)["association"] == a
    listed = associations(eks, "c1")
    assert listed == [{k: a[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn",
                                         "associationId")}], listed
    assert associations(eks, "c1", namespace="apps", serviceAccount="web") == listed
    assert associations(eks, "c1", namespace="other") == []
    assert associations(eks, "c1", serviceAccount="api") == []

    u = eks.update_pod_identity_association(clusterName="c1", associationId=assoc_id, roleArn=role2)["association"]
    assert u["roleArn"] == role2 and u["associationId"] == assoc_id and u["namespace"] == "apps"
    assert eks.describe_pod_identity_association(clusterName="c1", associationId=assoc_id)["association"][
        "roleArn"] == role2
    eks.tag_resource(resourceArn=a["associationArn"], tags={"env": "test"})
    assert eks.list_tags_for_resource(resourceArn=a["associationArn"])["tags"] == {"team": "web", "env": "test"}
    eks.untag_resource(resourceArn=a["associationArn"], tagKeys=["team"])
    assert eks.describe_pod_identity_association(clusterName="c1", associationId=assoc_id)["association"][
        "tags"] == {"env": "test"}
    d = eks.delete_pod_identity_association(clusterName="c1", associationId=assoc_id)["association"]
    assert d["associationId"] == assoc_id and d["roleArn"] == role2
    assert associations(eks, "c1") == []
    for op in (eks.describe_pod_identity_association, eks.delete_pod_identity_association):
        error(op, "ResourceNotFoundException", 404, clusterName="c1", associationId=assoc_id)
    error(eks.update_pod_identity_association, "ResourceNotFoundException", 404, clusterName="c1",
          associationId=assoc_id, roleArn=role)
    msg = error(eks.describe_pod_identity_association, "InvalidParameterException", 400, clusterName="c1",
                associationId="a-short")
    assert "19 characters" in msg, msg
    error(eks.list_pod_identity_associations, "ResourceNotFoundException", 404, clusterName="nope")
    error(eks.create_pod_identity_association, "ResourceNotFoundException", 404, clusterName="nope",
          namespace="apps", serviceAccount="web", roleArn=role)

    # Paging, and a repeated clientRequestToken answering with the association it made.
    made = [eks.create_pod_identity_association(clusterName="c1", namespace="apps", serviceAccount=f"sa{i}",
                                                roleArn=role, clientRequestToken=f"token-{i}")["association"]
            for i in range(3)]
    retry = eks.create_pod_identity_association(clusterName="c1", namespace="apps", serviceAccount="sa0",
                                                roleArn=role, clientRequestToken="token-0")["association"]
    assert retry == made[0], (retry, made[0])
    first = eks.list_pod_identity_associations(clusterName="c1", maxResults=2)
    rest = eks.list_pod_identity_associations(clusterName="c1", maxResults=2, nextToken=first["nextToken"])
    assert [x["associationId"] for x in first["associations"] + rest["associations"]] == \
        [m["associationId"] for m in made] and "nextToken" not in rest
    error(eks.list_pod_identity_associations, "InvalidParameterException", 400, clusterName="c1", maxResults=101)
    for m in made:
        eks.delete_pod_identity_association(clusterName="c1", associationId=m["associationId"])


def check_pod_identity_duplicate(url, eks):
    """One association per (namespace, service account): a second is refused,
    naming the first; the same service account in another namespace is fine."""
    role = client(url, "iam", "us-east-1").get_role(RoleName="pod-app")["Role"]["Arn"]
    a = eks.create_pod_identity_association(clusterName="c1", namespace="apps", serviceAccount="dup",
                                            roleArn=role)["association"]
    msg = error(eks.create_pod_identity_association, "ResourceInUseException", 409, clusterName="c1",
                namespace="apps", serviceAccount="dup", roleArn=role)
    assert msg == f"Association already exists: {a['associationId']}", msg
    b = eks.create_pod_identity_association(clusterName="c1", namespace="batch", serviceAccount="dup",
                                            roleArn=role)["association"]
    for x in (a, b):
        eks.delete_pod_identity_association(clusterName="c1", associationId=x["associationId"])


def check_pod_identity_missing_role(url, eks):
    """The role must exist in IAM, on create and on update."""
    missing = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
    msg = error(eks.create_pod_identity_association, "InvalidParameterException", 400, clusterName="c1",
                namespace="apps", serviceAccount="web", roleArn=missing)
    assert msg == "Role provided in the request does not exist", msg
    assert associations(eks, "c1") == []
    role = client(url, "iam", "us-east-1").get_role(RoleName="pod-app")["Role"]["Arn"]
    a = eks.create_pod_identity_association(clusterName="c1", namespace="apps", serviceAccount="web",
                                            roleArn=role)["association"]
    error(eks.update_pod_identity_association, "InvalidParameterException", 400, clusterName="c1",
          associationId=a["associationId"], roleArn=missing)
    assert eks.describe_pod_identity_association(clusterName="c1", associationId=a["associationId"])[
        "association"]["roleArn"] == role
    eks.delete_pod_identity_association(clusterName="c1", associationId=a["associationId"])


def check_addon_pod_identity(url, eks):
    """CreateAddon podIdentityAssociations make add-on-owned associations
    (ownerArn = the add-on, namespace its own), which only the add-on changes:
    direct update/delete refused, UpdateAddon with [] removes them, DeleteAddon
    removes them; a service account the add-on doesn't use is refused."""
    iam = client(url, "iam", "us-east-1")
    ebs_role, ebs_role2 = pod_role(iam, "ebs-csi"), pod_role(iam, "ebs-csi-2")
    msg = error(eks.create_addon, "InvalidParameterException", 400, clusterName="c1",
                addonName="aws-ebs-csi-driver",
                podIdentityAssociations=[{"serviceAccount": "ebs-csi-node-sa", "roleArn": ebs_role}])
    assert msg == ("Service account ebs-csi-node-sa in pod identity configuration is not supported for addon "
                   "aws-ebs-csi-driver"), msg
    error(eks.create_addon, "InvalidParameterException", 400, clusterName="c1", addonName="coredns",
          podIdentityAssociations=[{"serviceAccount": "coredns", "roleArn": ebs_role}])
    error(eks.create_addon, "InvalidParameterException", 400, clusterName="c1", addonName="aws-ebs-csi-driver",
          podIdentityAssociations=[{"serviceAccount": "ebs-csi-controller-sa",
                                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/no-such-role"}])
    error(eks.create_addon, "InvalidParameterException", 400, clusterName="c1", addonName="aws-ebs-csi-driver",
          resolveConflicts="SOMETIMES")
    assert "aws-ebs-csi-driver" not in eks.list_addons(clusterName="c1")["addons"]  # nothing half-made
    assert associations(eks, "c1") == []

    ebs = eks.create_addon(clusterName="c1", addonName="aws-ebs-csi-driver", resolveConflicts="PRESERVE",
                           podIdentityAssociations=[{"serviceAccount": "ebs-csi-controller-sa",
                                                     "roleArn": ebs_role}])["addon"]
    owned = associations(eks, "c1")
    assert len(owned) == 1 and owned[0]["ownerArn"] == ebs["addonArn"], owned
    assert owned[0]["namespace"] == "kube-system" and owned[0]["serviceAccount"] == "ebs-csi-controller-sa"
    assert ebs["podIdentityAssociations"] == [owned[0]["associationArn"]], ebs
    assert eks.describe_addon(clusterName="c1", addonName="aws-ebs-csi-driver")["addon"][
        "podIdentityAssociations"] == [owned[0]["associationArn"]]
    full = eks.describe_pod_identity_association(clusterName="c1", associationId=owned[0]["associationId"])
    assert full["association"]["ownerArn"] == ebs["addonArn"] and full["association"]["roleArn"] == ebs_role
    # The service account is taken: a direct association for it is refused.
    error(eks.create_pod_identity_association, "ResourceInUseException", 409, clusterName="c1",
          namespace="kube-system", serviceAccount="ebs-csi-controller-sa", roleArn=ebs_role)
    # Owned by the add-on: not changed directly.
    error(eks.delete_pod_identity_association, "InvalidRequestException", 400, clusterName="c1",
          associationId=owned[0]["associationId"])
    error(eks.update_pod_identity_association, "InvalidRequestException", 400, clusterName="c1",
          associationId=owned[0]["associationId"], roleArn=ebs_role2)

    # UpdateAddon: absent leaves them, a changed role updates the same association, [] removes them.
    u = eks.update_addon(clusterName="c1", addonName="aws-ebs-csi-driver", resolveConflicts="PRESERVE")["update"]
    assert u["status"] == "Successful" and len(associations(eks, "c1")) == 1
    u = eks.update_addon(clusterName="c1", addonName="aws-ebs-csi-driver", podIdentityAssociations=[
        {"serviceAccount": "ebs-csi-controller-sa", "roleArn": ebs_role2}])["update"]
    assert {"type": "PodIdentityAssociations", "value": json.dumps(
        [{"serviceAccount": "ebs-csi-controller-sa", "roleArn": ebs_role2, "namespace": "kube-system"}],
        separators=(",", ":"))} in u["params"], u["params"]
    again = associations(eks, "c1")
    assert [x["associationId"] for x in again] == [owned[0]["associationId"]]
    assert eks.describe_pod_identity_association(clusterName="c1", associationId=owned[0]["associationId"])[
        "association"]["roleArn"] == ebs_role2
    error(eks.update_addon, "InvalidParameterException", 400, clusterName="c1", addonName="aws-ebs-csi-driver",
          resolveConflicts="ALWAYS")
    eks.update_addon(clusterName="c1", addonName="aws-ebs-csi-driver", podIdentityAssociations=[])
    assert associations(eks, "c1") == []
    assert eks.describe_addon(clusterName="c1", addonName="aws-ebs-csi-driver")["addon"][
        "podIdentityAssociations"] == []

    # DeleteAddon removes the add-on's associations (with preserve too).
    eks.update_addon(clusterName="c1", addonName="aws-ebs-csi-driver", podIdentityAssociations=[
        {"serviceAccount": "ebs-csi-controller-sa", "roleArn": ebs_role}])
    assert len(associations(eks, "c1")) == 1
    eks.delete_addon(clusterName="c1", addonName="aws-ebs-csi-driver", preserve=True)
    assert associations(eks, "c1") == []
    efs = eks.create_addon(clusterName="c1", addonName="aws-efs-csi-driver", podIdentityAssociations=[
        {"serviceAccount": "efs-csi-controller-sa", "roleArn": pod_role(iam, "efs-csi")}])["addon"]
    assert [x["ownerArn"] for x in associations(eks, "c1", namespace="kube-system")] == [efs["addonArn"]]
    eks.delete_addon(clusterName="c1", addonName="aws-efs-csi-driver")
    assert associations(eks, "c1") == []
    cw = eks.create_addon(clusterName="c1", addonName="amazon-cloudwatch-observability", podIdentityAssociations=[
        {"serviceAccount": "cloudwatch-agent", "roleArn": pod_role(iam, "cw-agent")}])["addon"]
    assert [(x["namespace"], x["ownerArn"]) for x in associations(eks, "c1")] == [
        ("amazon-cloudwatch", cw["addonArn"])]
    eks.delete_addon(clusterName="c1", addonName="amazon-cloudwatch-observability")
    assert associations(eks, "c1") == []


def check_oidc_provider(url):
    """IAM OpenID Connect providers (IRSA) on the stand-in: moto's own
    Create/Get/Tag/Untag/Delete, with ClientIDList ["sts.amazonaws.com"] and no
    ThumbprintList (optional since 2024); IAM then fills in a thumbprint, which
    the stand-in does for moto. Delete is idempotent, as IAM documents."""
    iam = client(url, "iam", "us-east-1")
    issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    arn = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"],
                                              Tags=[{"Key": "team", "Value": "eks"}])["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer[len('https://'):]}", arn
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == issuer[len("https://"):] and got["ClientIDList"] == ["sts.amazonaws.com"], got
    prints = got["ThumbprintList"]
    assert len(prints) == 1 and len(prints[0]) == 40 and int(prints[0], 16) >= 0, prints
    # Every issuer on the same host has the same certificate, so the same thumbprint.
    other = iam.create_open_id_connect_provider(Url=issuer.replace("EXAMPLE", "OTHER1"),
                                                ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=other)["ThumbprintList"] == prints
    given = iam.create_open_id_connect_provider(Url="https://token.example.com", ClientIDList=["sts.amazonaws.com"],
                                                ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=given)["ThumbprintList"] == ["a" * 40]
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"}]
    try:
        iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])
        raise AssertionError("a second provider for the same URL")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "EntityAlreadyExists", err.response
    for x in (arn, other, given):
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=x)
    try:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        raise AssertionError("the provider is still there")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NoSuchEntity", err.response
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)  # idempotent


def check_pod_identity_cluster_deletion(url, eks, subnets):
    """DeleteCluster takes the cluster's associations with it: a new cluster of
    the same name has none, and the old ARN is no longer taggable."""
    role = client(url, "iam", "us-east-1").get_role(RoleName="pod-app")["Role"]["Arn"]
    new_cluster(eks, "pods", subnets)
    a = eks.create_pod_identity_association(clusterName="pods", namespace="apps", serviceAccount="web",
                                            roleArn=role)["association"]
    assert len(associations(eks, "pods")) == 1
    eks.delete_cluster(name="pods")
    error(eks.list_pod_identity_associations, "ResourceNotFoundException", 404, clusterName="pods")
    new_cluster(eks, "pods", subnets)
    assert associations(eks, "pods") == []
    error(eks.describe_pod_identity_association, "ResourceNotFoundException", 404, clusterName="pods",
          associationId=a["associationId"])
    eks.delete_cluster(name="pods")


def check_launch_templates(eks, ec2, subnets):
    """Node groups on a launch template, as the EKS API reference has them
    (API_CreateNodegroup.html, API_UpdateNodegroupVersion.html)."""
    typed = ec2.create_launch_template(LaunchTemplateName="lt-typed", LaunchTemplateData={
        "InstanceType": "m6i.large",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 30, "VolumeType": "gp3"}}]})
    lt = typed["LaunchTemplate"]["LaunchTemplateId"]
    spec = dict(clusterName="c1", subnets=subnets, nodeRole=NODE_ROLE)
    # diskSize beside a launch template, instance types in both places, a template that does not exist: refused.
    err = error(eks.create_nodegroup, "InvalidParameterException", 400, nodegroupName="lt1", diskSize=20,
                launchTemplate={"id": lt, "version": "1"}, **spec)
    assert "Disk size must be specified within the launch template." in str(err), err
    error(eks.create_nodegroup, "InvalidParameterException", 400, nodegroupName="lt1", instanceTypes=["m5.large"],
          launchTemplate={"id": lt, "version": "1"}, **spec)
    error(eks.create_nodegroup, "InvalidParameterException", 400, nodegroupName="lt1",
          launchTemplate={"id": "lt-0000000000000dead", "version": "1"}, **spec)
    ng = eks.create_nodegroup(nodegroupName="lt1", launchTemplate={"id": lt}, **spec)["nodegroup"]
    assert ng["launchTemplate"]["id"] == lt and ng["launchTemplate"]["version"] == "1", ng["launchTemplate"]
    assert "diskSize" not in ng and ng["instanceTypes"] == ["m6i.large"], ng
    # A new version rolls the group in place: same ARN, the new version reported.
    ec2.create_launch_template_version(LaunchTemplateId=lt, LaunchTemplateData={"InstanceType": "m6i.xlarge"})
    eks.update_nodegroup_version(clusterName="c1", nodegroupName="lt1", launchTemplate={"id": lt, "version": "2"})
    after = eks.describe_nodegroup(clusterName="c1", nodegroupName="lt1")["nodegroup"]
    assert after["nodegroupArn"] == ng["nodegroupArn"] and after["launchTemplate"]["version"] == "2", after
    assert after["instanceTypes"] == ["m6i.xlarge"] and after["scalingConfig"] == ng["scalingConfig"], after
    error(eks.update_nodegroup_version, "InvalidParameterException", 400, clusterName="c1", nodegroupName="lt1",
          launchTemplate={"id": lt, "version": "9"})
    eks.delete_nodegroup(clusterName="c1", nodegroupName="lt1")
    ec2.delete_launch_template(LaunchTemplateId=lt)


def check_versions(eks, subnets):
    ng = eks.create_nodegroup(clusterName="c1", nodegroupName="ng1", subnets=subnets, nodeRole=NODE_ROLE)
    ng = ng["nodegroup"]
    assert ng["version"] == "1.32" and ng["releaseVersion"].startswith("1.32.")  # moto alone: 1.19
    # EKS makes the access entry of a managed node group's role itself (API authentication mode).
    second_role = f"arn:aws:iam::{ACCOUNT}:role/eks-node-2"
    error(eks.describe_access_entry, "ResourceNotFoundException", 404, clusterName="c1", principalArn=second_role)
    eks.create_nodegroup(clusterName="c1", nodegroupName="ng2", subnets=subnets, nodeRole=second_role)
    node_entry = eks.describe_access_entry(clusterName="c1", principalArn=second_role)["accessEntry"]
    assert node_entry["type"] == "EC2_LINUX" and node_entry["username"] == "system:node:{{EC2PrivateDNSName}}"
    # EKS's update and repair defaults, a given update config, and its one-of rule.
    assert ng["updateConfig"] == {"maxUnavailable": 1} and ng["nodeRepairConfig"] == {"enabled": False}
    ng3 = eks.create_nodegroup(clusterName="c1", nodegroupName="ng3", subnets=subnets, nodeRole=NODE_ROLE,
                               updateConfig={"maxUnavailablePercentage": 25},
                               nodeRepairConfig={"enabled": True})["nodegroup"]
    assert ng3["updateConfig"] == {"maxUnavailablePercentage": 25} and ng3["nodeRepairConfig"] == {"enabled": True}
    error(eks.create_nodegroup, "InvalidParameterException", 400, clusterName="c1", nodegroupName="ng4",
          subnets=subnets, nodeRole=NODE_ROLE, updateConfig={"maxUnavailable": 1, "maxUnavailablePercentage": 5})
    error(eks.update_nodegroup_config, "InvalidParameterException", 400, clusterName="c1", nodegroupName="ng3",
          updateConfig={"maxUnavailable": 101})
    eks.update_nodegroup_config(clusterName="c1", nodegroupName="ng3", updateConfig={"maxUnavailable": 2},
                                nodeRepairConfig={"enabled": False})
    ng3 = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng3")["nodegroup"]
    assert ng3["updateConfig"] == {"maxUnavailable": 2} and ng3["nodeRepairConfig"] == {"enabled": False}
    # AMI releases: the newest by default, an older one pinned, one EKS does not have refused.
    assert ng["releaseVersion"] == "1.32.0-20250601"
    older = "1.32.0-20250101"
    eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng3", releaseVersion=older)
    assert eks.describe_nodegroup(clusterName="c1", nodegroupName="ng3")["nodegroup"]["releaseVersion"] == older
    error(eks.update_nodegroup_version, "InvalidParameterException", 400, clusterName="c1", nodegroupName="ng3",
          releaseVersion="1.32.9-20990101")
    error(eks.create_nodegroup, "InvalidParameterException", 400, clusterName="c1", nodegroupName="ng5",
          subnets=subnets, nodeRole=NODE_ROLE, releaseVersion="1.31.0-20250101")
    eks.delete_nodegroup(clusterName="c1", nodegroupName="ng3")

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

    msg = error(eks.update_cluster_version, "InvalidParameterException", 400, name="c1", version="1.34")
    assert "1.32 to 1.34" in msg
    error(eks.update_cluster_version, "ResourceNotFoundException", 404, name="nope", version="1.33")
    error(eks.update_nodegroup_version, "InvalidParameterException", 400,
          clusterName="c1", nodegroupName="ng1", version="1.33")  # ahead of the control plane
    u = eks.update_cluster_version(name="c1", version="1.33")["update"]
    assert u["type"] == "VersionUpdate" and u["status"] == "Successful" and u["errors"] == []
    assert {"type": "Version", "value": "1.33"} in u["params"] and u["createdAt"]
    assert eks.describe_cluster(name="c1")["cluster"]["version"] == "1.33"
    assert eks.describe_update(name="c1", updateId=u["id"])["update"] == u
    assert u["id"] in eks.list_updates(name="c1")["updateIds"]
    error(eks.describe_update, "ResourceNotFoundException", 404, name="c1", updateId="no-such-update")
    # Node groups must catch up before the next control-plane upgrade.
    error(eks.update_cluster_version, "InvalidRequestException", 400, name="c1", version="1.34")

    u = eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng1")["update"]
    assert u["type"] == "VersionUpdate" and u["status"] == "Successful"
    ng1 = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng1")["nodegroup"]
    assert ng1["version"] == "1.33" and ng1["releaseVersion"].startswith("1.33.")
    assert eks.describe_update(name="c1", updateId=u["id"], nodegroupName="ng1")["update"]["status"] == "Successful"
    error(eks.describe_update, "ResourceNotFoundException", 404, name="c1", updateId=u["id"])
    u = eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng2", version="1.33",
                                     releaseVersion="1.33.0-20250101")["update"]
    assert {"type": "ReleaseVersion", "value": "1.33.0-20250101"} in u["params"]
    error(eks.update_nodegroup_version, "ResourceNotFoundException", 404, clusterName="c1", nodegroupName="nope")
    assert eks.update_cluster_version(name="c1", version="1.34")["update"]["status"] == "Successful"


def check_deletion_protection(eks, subnets):
    c = new_cluster(eks, "protected", subnets, deletionProtection=True, zonalShiftConfig={"enabled": True})
    assert c["deletionProtection"] is True and c["zonalShiftConfig"] == {"enabled": True}
    error(eks.delete_cluster, "InvalidRequestException", 400, name="protected")
    u = eks.update_cluster_config(name="protected", deletionProtection=False)["update"]
    assert u["type"] == "DeletionProtectionUpdate"
    assert eks.describe_cluster(name="protected")["cluster"]["deletionProtection"] is False
    assert eks.delete_cluster(name="protected")["cluster"]["status"] == "DELETING"


def check_auto_mode(eks, subnets):
    """EKS Auto Mode: compute, block storage and load balancing together,
    Kubernetes 1.29 or later, access entries, node pools with a node role
    that cannot change; EKS makes the node role's EC2 access entry."""
    node_role = "arn:aws:iam::123456789012:role/auto-node"
    on = dict(computeConfig={"enabled": True, "nodePools": ["general-purpose", "system"], "nodeRoleArn": node_role},
              storageConfig={"blockStorage": {"enabled": True}},
              kubernetesNetworkConfig={"elasticLoadBalancing": {"enabled": True}})
    api = {"authenticationMode": "API"}
    partial = dict(on, storageConfig={"blockStorage": {"enabled": False}})
    assert "all be enabled" in error(new_cluster, "InvalidParameterException", 400, eks=eks, name="auto",
                                     subnets=subnets, accessConfig=api, **partial)
    assert "authentication mode" in error(new_cluster, "InvalidParameterException", 400, eks=eks, name="auto",
                                          subnets=subnets, **on)
    no_role = dict(on, computeConfig={"enabled": True, "nodePools": ["system"]})
    assert "nodeRoleArn" in error(new_cluster, "InvalidParameterException", 400, eks=eks, name="auto",
                                  subnets=subnets, accessConfig=api, **no_role)
    assert eks.list_clusters()["clusters"].count("auto") == 0
    c = new_cluster(eks, "auto", subnets, accessConfig=api, **on)
    assert c["computeConfig"]["enabled"] is True and c["computeConfig"]["nodePools"] == ["general-purpose", "system"]
    described = eks.describe_cluster(name="auto")["cluster"]
    assert described["storageConfig"] == {"blockStorage": {"enabled": True}}, described
    assert described["kubernetesNetworkConfig"]["elasticLoadBalancing"] == {"enabled": True}, described
    assert "serviceIpv4Cidr" in described["kubernetesNetworkConfig"], described
    entry = eks.describe_access_entry(clusterName="auto", principalArn=node_role)["accessEntry"]
    assert entry["type"] == "EC2", entry
    policies = eks.list_associated_access_policies(clusterName="auto", principalArn=node_role)["associatedAccessPolicies"]
    assert [p["policyArn"].rsplit("/", 1)[1] for p in policies] == ["AmazonEKSAutoNodePolicy"], policies
    # Off, in place: all three together; the node role stays what it was.
    off = dict(computeConfig={"enabled": False}, storageConfig={"blockStorage": {"enabled": False}},
               kubernetesNetworkConfig={"elasticLoadBalancing": {"enabled": False}})
    u = eks.update_cluster_config(name="auto", **off)["update"]
    assert u["type"] == "AutoModeUpdate", u
    assert eks.describe_cluster(name="auto")["cluster"]["computeConfig"]["enabled"] is False
    other = dict(on, computeConfig={**on["computeConfig"], "nodeRoleArn": node_role + "-2"})
    assert "cannot be changed" in error(eks.update_cluster_config, "InvalidParameterException", 400,
                                        name="auto", **other)
    eks.update_cluster_config(name="auto", **on)
    assert eks.describe_cluster(name="auto")["cluster"]["computeConfig"]["enabled"] is True
    eks.delete_cluster(name="auto")


def check_control_plane_log_group(url, eks, subnets):
    """EKS creates /aws/eks/NAME/cluster, with no retention, when logging is
    on and the group is missing, uses one made beforehand as it is, and
    leaves it on DeleteCluster:
    https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html"""
    logs = client(url, "logs")

    def group(name):
        found = logs.describe_log_groups(logGroupNamePrefix=f"/aws/eks/{name}/cluster")["logGroups"]
        return next((g for g in found if g["logGroupName"] == f"/aws/eks/{name}/cluster"), None)
    on = {"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]}
    new_cluster(eks, "logged", subnets, logging=on)
    made = group("logged")
    assert made is not None and "retentionInDays" not in made, made
    new_cluster(eks, "quiet", subnets)
    assert group("quiet") is None  # no log type enabled, no group
    eks.update_cluster_config(name="quiet", logging={"clusterLogging": [{"types": ["scheduler"], "enabled": True}]})
    assert group("quiet") is not None, "enabling a log type makes the group"
    logs.create_log_group(logGroupName="/aws/eks/kept/cluster", tags={"Owner": "us"})
    logs.put_retention_policy(logGroupName="/aws/eks/kept/cluster", retentionInDays=7)
    new_cluster(eks, "kept", subnets, logging=on)
    kept = group("kept")
    assert kept["retentionInDays"] == 7, kept
    assert logs.list_tags_for_resource(resourceArn=kept["logGroupArn"])["tags"] == {"Owner": "us"}
    for name in ("logged", "quiet", "kept"):
        eks.delete_cluster(name=name)
    assert group("logged") is not None and group("kept")["retentionInDays"] == 7, "DeleteCluster keeps the group"
    # Tags go with a deleted group (moto would keep them for the next group of that name).
    logs.delete_log_group(logGroupName="/aws/eks/kept/cluster")
    logs.create_log_group(logGroupName="/aws/eks/kept/cluster")
    assert logs.list_tags_for_resource(resourceArn=group("kept")["logGroupArn"])["tags"] == {}
    for name in ("logged", "quiet", "kept"):
        logs.delete_log_group(logGroupName=f"/aws/eks/{name}/cluster")


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
        u = eks.update_cluster_version(name="slow", version="1.33")["update"]
        assert u["status"] == "InProgress"
        c = eks.describe_cluster(name="slow")["cluster"]
        assert c["status"] == "UPDATING" and c["version"] == "1.32"
        error(eks.update_cluster_version, "ResourceInUseException", 409, name="slow", version="1.33")
        time.sleep(1.2)
        assert eks.describe_update(name="slow", updateId=u["id"])["update"]["status"] == "Successful"
        c = eks.describe_cluster(name="slow")["cluster"]
        assert c["status"] == "ACTIVE" and c["version"] == "1.33"
        assert eks.describe_addon(clusterName="slow", addonName="coredns")["addon"]["status"] == "ACTIVE"
        assert eks.delete_addon(clusterName="slow", addonName="coredns")["addon"]["status"] == "DELETING"
        assert eks.describe_addon(clusterName="slow", addonName="coredns")["addon"]["status"] == "DELETING"
        time.sleep(1.2)
        error(eks.describe_addon, "ResourceNotFoundException", 404, clusterName="slow", addonName="coredns")
    finally:
        stop(proc)


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
        stop(proc)


# ----- realism (tools/realism.py): each behaviour on, and off with all,-<name> --------

SCALE = 0.002  # a 10-minute cluster creation takes 1.2 s
OBSERVER = {"aws_access_key_id": "AKIAEKSFLEETOBSERVER1", "aws_secret_access_key": "secret"}


def post(url, path, data):
    request = urllib.request.Request(url + path, data=json.dumps(data).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))


def observer(url, service, region="eu-west-1"):
    return boto3.client(service, endpoint_url=url, region_name=region, **OBSERVER)


def wait_for(fn, what, timeout=30):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def new_role(iam, name, policy=None):
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Statement": []}))["Role"]["Arn"]
    if policy:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return arn


def routed_network(ec2, cidr="10.1"):
    """A VPC whose main route table sends 0.0.0.0/0 to an internet gateway."""
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])
    ec2.create_route(RouteTableId=main["RouteTables"][0]["RouteTableId"], DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=igw)
    return vpc, subnets


def status(eks, name):
    try:
        return eks.describe_cluster(name=name)["cluster"]["status"]
    except ClientError as err:
        return err.response["Error"]["Code"]


def ng_status(eks, cluster, name):
    return eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]["status"]


def active_cluster(eks, name, subnets, role=ROLE, **extra):
    eks.create_cluster(name=name, version="1.32", roleArn=role, resourcesVpcConfig={"subnetIds": subnets}, **extra)
    wait_for(lambda: status(eks, name) == "ACTIVE", f"cluster {name} ACTIVE")


def check_iam_lag(url, lag=True):
    iam, eks, ec2 = client(url, "iam", "us-east-1"), client(url, "eks"), client(url, "ec2")
    _, subnets = routed_network(ec2, "10.2")
    role = new_role(iam, "lag-cluster")
    if lag:
        msg = error(eks.create_cluster, "InvalidParameterException", 400, name="lag1", roleArn=role,
                    resourcesVpcConfig={"subnetIds": subnets})
        assert msg == (f"Role with arn: {role}, could not be assumed because it does not exist or the trusted "
                       "entity is not correct"), msg
        time.sleep(SCALE * 10 + 0.05)
    eks.create_cluster(name="lag1", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    iam.attach_role_policy(RoleName="lag-cluster", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
    # The tests' own observer key is never lagged, not even on the first call.
    observer(url, "eks").create_cluster(name="lag2", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    if lag:
        msg = error(eks.create_cluster, "InvalidParameterException", 400, name="lag3", roleArn=role,
                    resourcesVpcConfig={"subnetIds": subnets})
        assert msg == ("The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please "
                       "ensure the following policies [arn:aws:iam::aws:policy/AmazonEKSClusterPolicy] are "
                       "attached"), msg
    wait_for(lambda: status(eks, "lag1") == "ACTIVE", "lag1 ACTIVE")
    node = new_role(iam, "lag-node")
    if lag:
        msg = error(eks.create_nodegroup, "InvalidParameterException", 400, clusterName="lag1",
                    nodegroupName="ng", subnets=subnets, nodeRole=node)
        assert node in msg, msg
        time.sleep(SCALE * 10 + 0.05)
    eks.create_nodegroup(clusterName="lag1", nodegroupName="ng", subnets=subnets, nodeRole=node)
    eks.update_cluster_config(name="lag1", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    wait_for(lambda: status(eks, "lag1") == "ACTIVE", "lag1 ACTIVE after the access config update")
    dev = new_role(iam, "lag-dev")
    if lag:
        msg = error(eks.create_access_entry, "InvalidParameterException", 400, clusterName="lag1", principalArn=dev)
        assert msg == "The specified principalArn is invalid: invalid principal", msg
        time.sleep(SCALE * 10 + 0.05)
    eks.create_access_entry(clusterName="lag1", principalArn=dev)
    # A trust policy naming a role: refused while IAM does not show the role,
    # and always for a role that does not exist (moto saves any principal).
    trusting = lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}]})
    hub = new_role(iam, "lag-hub")
    if lag:
        msg = iam_error(iam.create_role, "MalformedPolicyDocument", 400, RoleName="lag-edge",
                        AssumeRolePolicyDocument=trusting(hub))
        assert msg == f'Invalid principal in policy: "AWS":"{hub}"', msg
        time.sleep(SCALE * 10 + 0.05)
    iam.create_role(RoleName="lag-edge", AssumeRolePolicyDocument=trusting(hub))
    missing = hub.replace("lag-hub", "no-such-role")
    if lag:
        msg = iam_error(iam.update_assume_role_policy, "MalformedPolicyDocument", 400, RoleName="lag-edge",
                        PolicyDocument=trusting(missing))
        assert missing in msg, msg
    else:
        iam.update_assume_role_policy(RoleName="lag-edge", PolicyDocument=trusting(missing))


def check_durations(url, on=True, scale=SCALE):
    eks, ec2 = client(url, "eks"), client(url, "ec2")
    _, subnets = routed_network(ec2, "10.3")
    c = eks.create_cluster(name="d1", version="1.32", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})
    enis = lambda: ec2.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": ["Amazon EKS d1"]}])["NetworkInterfaces"]
    if not on:
        assert c["cluster"]["status"] == "ACTIVE"
        eks.delete_cluster(name="d1")
        assert status(eks, "d1") == "ResourceNotFoundException"
        eks.create_cluster(name="d1", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})  # name free at once
        return
    assert c["cluster"]["status"] == "CREATING"
    assert len(enis()) >= 1 and all(e["SubnetId"] in subnets for e in enis())
    started = time.time()
    wait_for(lambda: status(eks, "d1") == "ACTIVE", "d1 ACTIVE")
    assert time.time() - started > 600 * scale * 0.7
    ng = eks.create_nodegroup(clusterName="d1", nodegroupName="ng", subnets=subnets, nodeRole=NODE_ROLE)
    assert ng["nodegroup"]["status"] == "CREATING"
    wait_for(lambda: ng_status(eks, "d1", "ng") == "ACTIVE", "ng ACTIVE")
    # In-progress updates block deletion.
    for update in (lambda: eks.update_nodegroup_config(clusterName="d1", nodegroupName="ng",
                                                       labels={"addOrUpdateLabels": {"a": "b"}}),
                   lambda: eks.update_nodegroup_version(clusterName="d1", nodegroupName="ng",
                                                        releaseVersion="1.32.0-20250101")):
        u = update()
        assert u["update"]["status"] == "InProgress" and ng_status(eks, "d1", "ng") == "UPDATING"
        error(eks.delete_nodegroup, "ResourceInUseException", 409, clusterName="d1", nodegroupName="ng")
        wait_for(lambda: eks.describe_update(name="d1", updateId=u["update"]["id"], nodegroupName="ng")
                 ["update"]["status"] == "Successful", "node group update")
        assert ng_status(eks, "d1", "ng") == "ACTIVE"
    eks.delete_nodegroup(clusterName="d1", nodegroupName="ng")
    assert ng_status(eks, "d1", "ng") == "DELETING"
    error(eks.delete_cluster, "ResourceInUseException", 409, name="d1")  # its node group is still deleting
    wait_for(lambda: not eks.list_nodegroups(clusterName="d1")["nodegroups"], "ng gone")
    u = eks.update_cluster_config(name="d1", logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]})
    assert u["update"]["status"] == "InProgress" and status(eks, "d1") == "UPDATING"
    error(eks.delete_cluster, "ResourceInUseException", 409, name="d1")
    wait_for(lambda: status(eks, "d1") == "ACTIVE", "d1 update done")
    assert eks.delete_cluster(name="d1")["cluster"]["status"] == "DELETING"
    assert status(eks, "d1") == "DELETING"  # still describable while EKS deletes it
    wait_for(lambda: status(eks, "d1") == "ResourceNotFoundException", "d1 gone")
    msg = error(eks.create_cluster, "ResourceInUseException", 409, name="d1", roleArn=ROLE,
                resourcesVpcConfig={"subnetIds": subnets})
    assert msg == "Cluster already exists with name: d1", msg
    assert enis(), "EKS's ENIs linger after the cluster is gone"
    wait_for(lambda: not enis(), "EKS's ENIs deleted", timeout=5)
    wait_for(lambda: _created(eks, "d1", subnets), "d1's name free again")


def _created(eks, name, subnets):
    try:
        eks.create_cluster(name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})
        return True
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ResourceInUseException", err.response
        return False


def check_zones(url, on=True):
    eks = client(url, "eks", "us-east-1")
    ec2 = client(url, "ec2", "us-east-1")
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    refused = next(z["ZoneName"] for z in zones if z["ZoneId"] == "use1-az3")
    good = [z["ZoneName"] for z in zones if z["ZoneId"] != "use1-az3" and z.get("ZoneType", "availability-zone")
            == "availability-zone"]
    vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    sub = lambda i, zone: ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.4.{i}.0/24",
                                            AvailabilityZone=zone)["Subnet"]["SubnetId"]
    one_zone = [sub(1, good[0]), sub(2, good[0])]
    bad = [sub(3, good[1]), sub(4, refused)]
    if not on:
        for i, subnets in enumerate((one_zone, bad)):
            eks.create_cluster(name=f"z{i}", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})
        return
    msg = error(eks.create_cluster, "InvalidParameterException", 400, name="z0", roleArn=ROLE,
                resourcesVpcConfig={"subnetIds": one_zone})
    assert msg == "Subnets specified must be in at least two different AZs", msg
    try:
        eks.create_cluster(name="z1", roleArn=ROLE, resourcesVpcConfig={"subnetIds": bad})
        raise AssertionError("a subnet in use1-az3 was accepted")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "UnsupportedAvailabilityZoneException", err.response
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        msg = err.response["Error"]["Message"]
        assert msg.startswith(f"Cannot create cluster 'z1' because {refused}, the targeted availability zone, "
                              "does not currently have sufficient capacity to support the cluster. Retry and "
                              "choose from these availability zones: "), msg
        assert refused not in msg.split(": ")[-1] and good[0] in msg, msg
        valid = err.response["validZones"]
        assert refused not in valid and good[0] in valid and err.response["clusterName"] == "z1", err.response
    eks.create_cluster(name="z2", roleArn=ROLE, resourcesVpcConfig={"subnetIds": [one_zone[0], bad[0]]})
    # Local Zones, where the EC2 side offers them (tools/strict_ec2.py): refused as well.
    ec2w, eksw = client(url, "ec2", "us-west-2"), client(url, "eks", "us-west-2")
    local = [z["ZoneName"] for z in ec2w.describe_availability_zones(AllAvailabilityZones=True)["AvailabilityZones"]
             if z.get("ZoneType") == "local-zone"]
    if local:
        vpc = ec2w.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2w.create_subnet(VpcId=vpc, CidrBlock=f"10.4.{i}.0/24", AvailabilityZone=zone)["Subnet"]
                   ["SubnetId"] for i, zone in ((1, "us-west-2a"), (2, local[0]))]
        error(eksw.create_cluster, "UnsupportedAvailabilityZoneException", 400, name="lz", roleArn=ROLE,
              resourcesVpcConfig={"subnetIds": subnets})


def check_failures(url, on=True):
    eks, ec2, iam = client(url, "eks"), client(url, "ec2"), observer(url, "iam", "us-east-1")
    _, routed = routed_network(ec2, "10.5")
    _, isolated = network_in(ec2, "10.6")
    active_cluster(eks, "f1", routed, accessConfig={"authenticationMode": "API"})
    coredns = lambda: eks.describe_addon(clusterName="f1", addonName="coredns")["addon"]
    eks.create_addon(clusterName="f1", addonName="coredns", addonVersion="v1.11.1-eksbuild.9")
    eks.create_nodegroup(clusterName="f1", nodegroupName="closed", subnets=isolated, nodeRole=NODE_ROLE)
    if not on:
        wait_for(lambda: ng_status(eks, "f1", "closed") == "ACTIVE", "closed ACTIVE")
        wait_for(lambda: coredns()["status"] != "CREATING", "coredns created")
        assert coredns()["status"] == "ACTIVE"  # not DEGRADED although no node has joined
        assert eks.describe_nodegroup(clusterName="f1", nodegroupName="closed")["nodegroup"]["health"]["issues"] == []
        return
    wait_for(lambda: coredns()["status"] not in ("CREATING",), "coredns created")
    a = coredns()
    assert a["status"] == "DEGRADED", a  # no nodes to run on
    assert a["health"]["issues"][0]["code"] == "InsufficientNumberOfReplicas", a
    wait_for(lambda: ng_status(eks, "f1", "closed") != "CREATING", "closed created")
    ng = eks.describe_nodegroup(clusterName="f1", nodegroupName="closed")["nodegroup"]
    assert ng["status"] == "CREATE_FAILED", ng
    issue = ng["health"]["issues"][0]
    assert issue["code"] == "NodeCreationFailure" and issue["message"] == "Instances failed to join the kubernetes cluster"
    assert issue["resourceIds"]
    assert coredns()["status"] == "DEGRADED"
    eks.create_nodegroup(clusterName="f1", nodegroupName="open", subnets=routed, nodeRole=NODE_ROLE)
    wait_for(lambda: ng_status(eks, "f1", "open") == "ACTIVE", "open ACTIVE")
    assert coredns()["status"] == "ACTIVE" and coredns()["health"]["issues"] == []
    # Private subnets with the VPC endpoints EKS nodes need: nodes join.
    vpc, private = network_in(ec2, "10.7")
    for service in ("ecr.api", "ecr.dkr", "ec2", "sts"):
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.eu-west-1.{service}",
                                VpcEndpointType="Interface", SubnetIds=private)
    rt = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.eu-west-1.s3", VpcEndpointType="Gateway",
                            RouteTableIds=[rt])
    eks.create_nodegroup(clusterName="f1", nodegroupName="private", subnets=private, nodeRole=NODE_ROLE)
    wait_for(lambda: ng_status(eks, "f1", "private") == "ACTIVE", "private ACTIVE")

    # Failures on demand.
    post(url, "/moto-fleet/fail-next", {"kind": "addon-update", "name": "coredns"})
    u = eks.update_addon(clusterName="f1", addonName="coredns", addonVersion="v1.11.3-eksbuild.2")["update"]
    u = wait_for(lambda: (lambda x: x if x["status"] != "InProgress" else None)(
        eks.describe_update(name="f1", updateId=u["id"], addonName="coredns")["update"]), "addon update")
    assert u["status"] == "Failed" and u["errors"][0]["errorCode"] and u["errors"][0]["resourceIds"] == ["coredns"]
    a = coredns()
    assert a["status"] == "ACTIVE" and a["addonVersion"] == "v1.11.1-eksbuild.9", a
    post(url, "/moto-fleet/fail-next", {"kind": "addon-create", "message": "boom"})
    eks.create_addon(clusterName="f1", addonName="vpc-cni")
    a = wait_for(lambda: (lambda x: x if x["status"] != "CREATING" else None)(
        eks.describe_addon(clusterName="f1", addonName="vpc-cni")["addon"]), "vpc-cni")
    assert a["status"] == "CREATE_FAILED" and a["health"]["issues"][0]["message"] == "boom", a
    post(url, "/moto-fleet/fail-next", {"kind": "nodegroup-create", "name": "ng-x"})
    eks.create_nodegroup(clusterName="f1", nodegroupName="ng-x", subnets=routed, nodeRole=NODE_ROLE)
    wait_for(lambda: ng_status(eks, "f1", "ng-x") == "CREATE_FAILED", "ng-x CREATE_FAILED")
    for force, expected in ((False, "Failed"), (True, "Successful")):
        post(url, "/moto-fleet/fail-next", {"kind": "nodegroup-version", "name": "open"})
        u = eks.update_nodegroup_version(clusterName="f1", nodegroupName="open", force=force,
                                         releaseVersion=("1.32.0-20250101", "1.32.0-20250601")[force])["update"]
        u = wait_for(lambda: (lambda x: x if x["status"] != "InProgress" else None)(eks.describe_update(
            name="f1", updateId=u["id"], nodegroupName="open")["update"]), "node group version update")
        assert u["status"] == expected, u
        if not force:
            assert u["errors"][0]["errorCode"] == "PodEvictionFailure", u
        wait_for(lambda: ng_status(eks, "f1", "open") == "ACTIVE", "open ACTIVE")
    for ng in ("closed", "private", "ng-x"):
        eks.delete_nodegroup(clusterName="f1", nodegroupName=ng)
    wait_for(lambda: eks.list_nodegroups(clusterName="f1")["nodegroups"] == ["open"], "only open left")
    post(url, "/moto-fleet/fail-next", {"kind": "cluster-version", "name": "f1"})
    u = eks.update_cluster_version(name="f1", version="1.33")["update"]
    u = wait_for(lambda: (lambda x: x if x["status"] != "InProgress" else None)(
        eks.describe_update(name="f1", updateId=u["id"])["update"]), "cluster version update")
    assert u["status"] == "Failed" and u["errors"], u
    c = eks.describe_cluster(name="f1")["cluster"]
    assert c["version"] == "1.32" and c["status"] == "ACTIVE", c
    u = eks.update_cluster_version(name="f1", version="1.33")["update"]
    wait_for(lambda: status(eks, "f1") == "ACTIVE", "f1 on 1.33")
    msg = error(eks.update_cluster_version, "InvalidRequestException", 400, name="f1", version="1.34")
    assert msg == "Nodegroups open must be updated to match cluster version 1.33 before updating cluster version", msg
    post(url, "/moto-fleet/fail-next", {"kind": "cluster-create"})
    eks.create_cluster(name="f2", roleArn=ROLE, resourcesVpcConfig={"subnetIds": routed})
    wait_for(lambda: status(eks, "f2") == "FAILED", "f2 FAILED")
    assert eks.describe_cluster(name="f2")["cluster"]["health"]["issues"]


def network_in(ec2, cidr):
    """A VPC with two subnets in two zones and no route out."""
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    return vpc, [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")
                 ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]


def check_dependencies(url, on=True):
    eks, ec2, iam = client(url, "eks"), client(url, "ec2"), client(url, "iam", "us-east-1")
    _, subnets = routed_network(ec2, "10.8")
    node = observer(url, "iam", "us-east-1").create_role(
        RoleName="dep-node", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.create_instance_profile(InstanceProfileName="karpenter")
    iam.add_role_to_instance_profile(InstanceProfileName="karpenter", RoleName="dep-node")
    active_cluster(eks, "dep", subnets)
    observer(url, "eks").create_nodegroup(clusterName="dep", nodegroupName="ng", subnets=subnets, nodeRole=node)
    wait_for(lambda: ng_status(eks, "dep", "ng") == "ACTIVE", "dep ng ACTIVE")
    msg = iam_error(iam.delete_role, "DeleteConflict", RoleName="dep-node")  # moto's own check
    assert msg == "Cannot delete entity, must remove roles from instance profile first.", msg
    iam.remove_role_from_instance_profile(InstanceProfileName="karpenter", RoleName="dep-node")
    eks.delete_nodegroup(clusterName="dep", nodegroupName="ng")
    wait_for(lambda: not eks.list_nodegroups(clusterName="dep")["nodegroups"], "dep ng gone")
    if on:
        msg = iam_error(iam.delete_role, "DeleteConflict", RoleName="dep-node")
        assert msg == "Cannot delete entity, must remove roles from instance profile first.", msg
        time.sleep(60 * SCALE + 0.05)
    iam.delete_role(RoleName="dep-node")


def iam_error(fn, code, status=409, **kwargs):
    """Call fn, expect an IAM (query protocol) error CODE with STATUS, return its message."""
    try:
        fn(**kwargs)
    except ClientError as err:
        assert err.response["Error"]["Code"] == code, err.response
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status, err.response
        return err.response["Error"]["Message"]
    raise AssertionError(f"expected {code}")


def check_eks_fidelity(url, on=True):
    eks = client(url, "eks")
    if not on:
        try:
            eks.list_nodegroups(clusterName="nope")
        except ClientError as err:
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 500  # moto's own answer
        codes = {status(eks, "nope") for _ in range(10)}
        assert codes == {"ResourceNotFoundException"}, codes
        return
    msg = error(eks.list_nodegroups, "ResourceNotFoundException", 404, clusterName="nope")  # moto: 500
    assert msg == "No cluster found for name: nope.", msg
    error(eks.list_fargate_profiles, "ResourceNotFoundException", 404, clusterName="nope")  # moto: 500
    for op, kwargs in ((eks.create_nodegroup, dict(nodegroupName="x", subnets=["subnet-1"], nodeRole=NODE_ROLE)),
                       (eks.create_fargate_profile, dict(fargateProfileName="f", podExecutionRoleArn=ROLE)),
                       (eks.delete_cluster, {})):
        try:
            op(**({"name": "nope"} if op == eks.delete_cluster else {"clusterName": "nope"}), **kwargs)
            raise AssertionError("a missing cluster was found")
        except ClientError as err:  # the name field the API reference lists, which moto leaves out
            assert err.response["Error"]["Code"] == "ResourceNotFoundException", err.response
            assert err.response["clusterName"] == "nope", err.response
    error(eks.describe_nodegroup, "ResourceNotFoundException", 404, clusterName="nope", nodegroupName="x")
    error(eks.list_addons, "ResourceNotFoundException", 404, clusterName="nope")
    codes = [status(eks, "nope") for _ in range(10)]
    assert codes.count("ClientException") == 2 and codes.count("ResourceNotFoundException") == 8, codes
    try:
        eks.describe_cluster(name="nope2")
    except ClientError as err:
        assert err.response["Error"]["Code"] in ("ResourceNotFoundException", "ClientException")


def check_lost_responses(url):
    from botocore.config import Config
    once = Config(retries={"total_max_attempts": 1})
    eks = boto3.client("eks", endpoint_url=url, region_name="eu-west-1", config=once, **OBSERVER)
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", config=once, **OBSERVER)
    ec2 = client(url, "ec2")
    _, subnets = routed_network(ec2, "10.9")
    post(url, "/moto-fleet/lose-responses", {"service": "eks", "action": "CreateCluster", "count": 1})
    try:
        eks.create_cluster(name="lost", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})
        raise AssertionError("the CreateCluster answer was not lost")
    except (ClientError, AssertionError):
        raise
    except Exception as err:  # botocore ConnectionClosedError and the like
        assert "onnection" in type(err).__name__ + str(err), repr(err)
    assert status(eks, "lost") in ("CREATING", "ACTIVE")  # it took effect
    error(eks.create_cluster, "ResourceInUseException", 409, name="lost", roleArn=ROLE,
          resourcesVpcConfig={"subnetIds": subnets})  # what the SDK's retry meets
    post(url, "/moto-fleet/lose-responses", {"service": "iam", "action": "CreateRole", "count": 1})
    try:
        iam.create_role(RoleName="lost-role", AssumeRolePolicyDocument="{}")
        raise AssertionError("the CreateRole answer was not lost")
    except (ClientError, AssertionError):
        raise
    except Exception as err:
        assert "onnection" in type(err).__name__ + str(err), repr(err)
    assert iam.get_role(RoleName="lost-role")["Role"]
    try:  # the SDK's default retry meets EntityAlreadyExists
        iam.create_role(RoleName="lost-role", AssumeRolePolicyDocument="{}")
        raise AssertionError("expected EntityAlreadyExists")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "EntityAlreadyExists", err.response


def check_iam_checks(url, on=True):
    iam = client(url, "iam", "us-east-1")
    ec2 = client(url, "ec2")
    _, subnets = routed_network(ec2, "10.10")
    iam.create_user(UserName="builder")
    allow = lambda actions: iam.put_user_policy(UserName="builder", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    allow(["eks:*", "ec2:*", "iam:PutUserPolicy"])
    key = iam.create_access_key(UserName="builder")["AccessKey"]
    request = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
    assert json.load(urllib.request.urlopen(request))["status"] == "ok"
    eks = boto3.client("eks", endpoint_url=url, region_name="eu-west-1", aws_access_key_id=key["AccessKeyId"],
                       aws_secret_access_key=key["SecretAccessKey"])
    create = dict(name="ic", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets},
                  encryptionConfig=[{"resources": ["secrets"], "provider": {
                      "keyArn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}])
    if not on:
        eks.create_cluster(**create)
        builder_iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                                   aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        builder_iam.put_user_policy(UserName="builder", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
                "eks:*", "ec2:*", "iam:PutUserPolicy", "iam:CreateRole"], "Resource": "*"}]}))
        check_pod_identity_iam(eks, builder_iam, on=False)
        return
    msg = error(eks.create_cluster, "AccessDeniedException", 403, **create)
    assert "iam:PassRole" in msg, msg
    # IAM calls below as the builder; enforcement is on for them too.
    builder_iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    steps = [(["eks:*", "ec2:*", "iam:PassRole", "iam:PutUserPolicy"], "iam:CreateServiceLinkedRole"),
             (["eks:*", "ec2:*", "iam:PassRole", "iam:CreateServiceLinkedRole", "iam:PutUserPolicy"],
              "kms:DescribeKey"),
             (["eks:*", "ec2:*", "iam:PassRole", "iam:CreateServiceLinkedRole", "kms:DescribeKey",
               "iam:PutUserPolicy"], "kms:CreateGrant")]
    for actions, missing in steps:
        builder_iam.put_user_policy(UserName="builder", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        msg = error(eks.create_cluster, "AccessDeniedException", 403, **create)
        assert missing in msg, (missing, msg)
    builder_iam.put_user_policy(UserName="builder", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "eks:*", "ec2:*", "iam:PassRole", "kms:DescribeKey", "kms:CreateGrant", "iam:PutUserPolicy",
            "iam:CreateRole"], "Resource": "*"}]}))
    eks.create_cluster(**create)  # the service-linked role exists now: not needed again
    check_pod_identity_iam(eks, builder_iam, on=True)


def past_iam_lag(fn, **kwargs):
    """fn(**kwargs) once IAM has propagated a new role (iam-lag is on in the realism servers)."""
    for _ in range(100):
        try:
            return fn(**kwargs)
        except ClientError as err:
            if err.response["Error"]["Message"] != "Role provided in the request does not exist":
                raise
            time.sleep(SCALE * 10 + 0.02)
    raise AssertionError("the new role never propagated")


def check_pod_identity_iam(eks, builder_iam, on):
    """iam-checks: CreatePodIdentityAssociation (and an add-on's
    podIdentityAssociations) need iam:PassRole on the role, and the role must
    trust pods.eks.amazonaws.com (AssumeRole and TagSession); off, neither is checked."""
    wait_for(lambda: status(eks, "ic") == "ACTIVE", "cluster ic ACTIVE")
    good = builder_iam.create_role(RoleName="pods-ok", AssumeRolePolicyDocument=POD_TRUST)["Role"]["Arn"]
    bad = builder_iam.create_role(RoleName="pods-untrusting", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    create = dict(clusterName="ic", namespace="apps", serviceAccount="web")
    if not on:  # no iam:PassRole in the policy, no trust check
        past_iam_lag(eks.create_pod_identity_association, roleArn=bad, **create)
        return
    # Without iam:PassRole (the policy keeps what it needs to be changed back).
    builder_iam.put_user_policy(UserName="builder", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "eks:*", "iam:PutUserPolicy"], "Resource": "*"}]}))
    msg = error(eks.create_pod_identity_association, "AccessDeniedException", 403, roleArn=good, **create)
    assert "iam:PassRole" in msg, msg
    msg = error(eks.create_addon, "AccessDeniedException", 403, clusterName="ic", addonName="aws-ebs-csi-driver",
                podIdentityAssociations=[{"serviceAccount": "ebs-csi-controller-sa", "roleArn": good}])
    assert "iam:PassRole" in msg, msg
    builder_iam.put_user_policy(UserName="builder", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "eks:*", "iam:PassRole"], "Resource": "*"}]}))
    try:
        past_iam_lag(eks.create_pod_identity_association, roleArn=bad, **create)
        raise AssertionError("a role pods.eks.amazonaws.com cannot assume was accepted")
    except ClientError as err:
        assert err.response["Error"]["Message"] == "Trust policy of the role provided is invalid", err.response
    a = past_iam_lag(eks.create_pod_identity_association, roleArn=good, **create)["association"]
    assert a["roleArn"] == good


def check_ec2_hook():
    """EC2 requests go to strict_ec2.handle(environ, start_response, app) and
    /moto-fleet/leftovers to strict_ec2.leftovers(body), when tools/strict_ec2.py
    exists; here a stand-in module proves the contract."""
    if (HERE / "strict_ec2.py").exists():
        return  # the real module: its own tests cover it
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "strict_ec2.py").write_text(
            "CALLS = []\n"
            "def handle(environ, start_response, app):\n"
            "    def mark(status, headers, exc_info=None):\n"
            "        return start_response(status, headers + [('x-strict-ec2', 'yes')])\n"
            "    return app(environ, mark)\n"
            "def leftovers(body):\n"
            "    return {'created': {kind: ['x-1'] for kind in body.get('kinds', [])}}\n")
        os.environ["PYTHONPATH"] = tmp
        try:
            proc, url = start()
        finally:
            del os.environ["PYTHONPATH"]
        try:
            r = client(url, "ec2").describe_vpcs()
            assert r["ResponseMetadata"]["HTTPHeaders"].get("x-strict-ec2") == "yes", r["ResponseMetadata"]
            assert post(url, "/moto-fleet/leftovers", {"kinds": ["eni"]}) == {"created": {"eni": ["x-1"]}}
        finally:
            stop(proc)
    proc, url = start()
    try:
        post(url, "/moto-fleet/leftovers", {"kinds": ["eni"]})
        raise AssertionError("leftovers answered without strict_ec2")
    except urllib.error.HTTPError as err:
        assert err.code == 501, err
    finally:
        stop(proc)


def check_realism():
    """Each behaviour with realism on, and not with MOTO_FLEET_REALISM=all,-<name>.

    Every check gets its own server and they run in parallel threads (most of
    their time is spent waiting for compressed AWS durations)."""
    import threading
    checks = [("iam-lag", check_iam_lag), ("durations", check_durations), ("zones", check_zones),
              ("failures", check_failures), ("dependencies", check_dependencies),
              ("eks-fidelity", check_eks_fidelity), ("iam-checks", check_iam_checks)]
    runs = []  # (label, behaviour, server, fn)
    # These checks set up their VPCs with plain EC2 calls: EC2's own lag is
    # strict_ec2's to prove (tools/test_strict_ec2.py), so it is off here.
    for name, check in checks:
        # Durations on a slower clock: windows such as the ENIs' 180 s linger are then
        # long enough to be observed reliably on a busy machine.
        on = start(realism="all,-ec2-lag", scale=0.005 if name == "durations" else SCALE)
        off = start(realism=f"all,-ec2-lag,-{name}", scale=SCALE)
        runs.append((f"{name} on", name, on, (lambda c, n: lambda u: c(u, scale=0.005) if n == "durations"
                                                  else c(u))(check, name)))
        runs.append((f"{name} off", name, off, (lambda c, n: lambda u: c(u, **{
            "lag" if n == "iam-lag" else "on": False}))(check, name)))
    runs.append(("lost responses", None, start(realism="all,-ec2-lag", scale=SCALE), check_lost_responses))
    failures = []

    def run(label, server, fn):
        try:
            fn(server[1])
        except BaseException as err:  # reported below, with the check's name
            import traceback
            failures.append((label, err, traceback.format_exc()))
    threads = [threading.Thread(target=run, args=(label, server, fn)) for label, _, server, fn in runs]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(150)
        for label, err, trace in failures:
            print(f"--- realism check {label} failed:\n{trace}", file=sys.stderr)
        assert not failures, [label for label, _, _ in failures]
        assert not any(t.is_alive() for t in threads), "a realism check hung"
        for label, name, (_, url), _ in runs:
            report = json.load(urllib.request.urlopen(url + "/moto-fleet/realism"))
            if name is None:
                continue
            if label.endswith(" on"):
                assert name in report["enabled"] and report["injected"].get(name), (label, report)
            else:
                assert name not in report["enabled"] and not report["injected"].get(name), (label, report)
        url = runs[0][2][1]
        assert json.load(urllib.request.urlopen(url + "/moto-fleet/realism"))["time_scale"] == SCALE
        post(url, "/moto-fleet/realism/reset", {})
        assert json.load(urllib.request.urlopen(url + "/moto-fleet/realism"))["injected"] == {}
    finally:
        for _, _, (proc, _), _ in runs:
            proc.terminate()
        for _, _, (proc, _), _ in runs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

def check_trust_after_role_deletion(url):
    """A trust policy naming a role that is deleted shows the role's unique id from then
    on, and does not trust a role made again under the name (IAM's principal ids)."""
    iam = observer(url, "iam", "us-east-1")
    hub = new_role(iam, "trust-hub")
    hub_id = iam.get_role(RoleName="trust-hub")["Role"]["RoleId"]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": hub}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": [hub, f"arn:aws:iam::{ACCOUNT}:root"]}, "Action": "sts:TagSession"}]}
    iam.create_role(RoleName="trust-edge", AssumeRolePolicyDocument=json.dumps(trust))
    iam.delete_role(RoleName="trust-hub")
    new_role(iam, "trust-hub")
    shown = iam.get_role(RoleName="trust-edge")["Role"]["AssumeRolePolicyDocument"]
    shown = json.loads(shown) if isinstance(shown, str) else shown
    assert shown["Statement"][0]["Principal"]["AWS"] == hub_id, shown
    assert shown["Statement"][1]["Principal"]["AWS"] == [hub_id, f"arn:aws:iam::{ACCOUNT}:root"], shown
    iam.delete_role(RoleName="trust-edge")
    iam.delete_role(RoleName="trust-hub")


def check_secure_transport():
    """A bucket policy denying requests without TLS (aws:SecureTransport
    false) denies plain HTTP and lets HTTPS through, as AWS does; moto alone
    denies both. The HTTPS listener shares the HTTP one's backends."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        cert = os.path.join(tmp, "cert.pem")
        proc, url = start(tls_cert=cert)
        try:
            port = int(url.rsplit(":", 1)[1])
            https = f"https://127.0.0.1:{port + 1}"
            for _ in range(100):
                if os.path.exists(cert):
                    break
                time.sleep(0.1)
            plain = client(url, "s3", "us-east-1")
            secure = boto3.client("s3", endpoint_url=https, region_name="us-east-1", verify=cert,
                                  aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="secret")
            plain.create_bucket(Bucket="tls-only")
            plain.put_object(Bucket="tls-only", Key="k", Body=b"v")
            plain.put_bucket_policy(Bucket="tls-only", Policy=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "EnforcedTLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
            try:
                plain.get_object(Bucket="tls-only", Key="k")
                raise AssertionError("a request without TLS passed the EnforcedTLS policy")
            except ClientError as err:
                assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403, err.response
            assert secure.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"v"
        finally:
            stop(proc)


def check_queue_name_reserved():
    """SQS keeps a deleted queue's name for 60 seconds (here 60 × 0.05 s);
    with durations off, moto's immediate reuse stays."""
    proc, url = start(realism="durations", scale=0.05)
    try:
        sqs = client(url, "sqs")
        queue = sqs.create_queue(QueueName="karpenter")["QueueUrl"]
        sqs.delete_queue(QueueUrl=queue)
        try:
            sqs.create_queue(QueueName="karpenter")
            raise AssertionError("expected QueueDeletedRecently")
        except ClientError as err:
            assert "QueueDeletedRecently" in err.response["Error"]["Code"], err.response["Error"]
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        sqs.create_queue(QueueName="other")  # another name is free
        time.sleep(3.2)
        sqs.create_queue(QueueName="karpenter")
    finally:
        stop(proc)
    proc, url = start()
    try:
        sqs = client(url, "sqs")
        sqs.delete_queue(QueueUrl=sqs.create_queue(QueueName="again")["QueueUrl"])
        sqs.create_queue(QueueName="again")
    finally:
        stop(proc)


def main():
    # The realism checks mostly wait on compressed AWS durations: run them
    # alongside the checks of moto's instant-settling behaviour.
    import threading
    realism_failed = []

    def realism_checks():
        try:
            check_realism()
        except BaseException as err:
            realism_failed.append(err)
            raise
    realism_thread = threading.Thread(target=realism_checks)
    realism_thread.start()
    proc, url = start()
    try:
        check_passthrough(url)
        eks, ec2 = client(url, "eks"), client(url, "ec2")
        vpc, subnets = network(ec2)
        check_clusters(url, eks, ec2, subnets, vpc)
        check_cluster_versions(url, eks, subnets)
        check_addons(eks)
        check_addon_configuration(eks)
        check_pod_identity(url, eks)
        check_pod_identity_duplicate(url, eks)
        check_pod_identity_missing_role(url, eks)
        check_addon_pod_identity(url, eks)
        check_pod_identity_cluster_deletion(url, eks, subnets)
        check_oidc_provider(url)
        check_access_entries(eks)
        check_versions(eks, subnets)
        check_launch_templates(eks, ec2, subnets)
        check_deletion_protection(eks, subnets)
        check_auto_mode(eks, subnets)
        check_control_plane_log_group(url, eks, subnets)
        check_deletion(eks, ec2, subnets)
        check_scoping(url, subnets)
        check_trust_after_role_deletion(url)
        check_passthrough(url)
    finally:
        stop(proc)
    check_iam_authorization()
    check_secure_transport()
    check_ec2_hook()
    check_queue_name_reserved()
    realism_thread.join()
    if realism_failed:
        sys.exit("moto_fleet self-check: realism checks failed")
    check_delays()  # 1-second delays: alone, so that a busy machine does not skew them
    print("moto_fleet self-check: OK")


if __name__ == "__main__":
    main()
