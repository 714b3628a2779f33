#!/usr/bin/env python3
"""Self-check of the hub's Kubernetes API stand (#15): `python tools/test_kube_stand.py`
(needs `make kube-tools`).

Starts moto_fleet.py, makes an EKS cluster in API authentication mode with access
entries, starts a real etcd + kube-apiserver wired to the stand-in's webhooks
(tools/kube_stand.py) and proves, over HTTPS with EKS tokens minted by botocore:
a role with AmazonEKSClusterAdminPolicy manages a Secret in `argocd`; a role with
no access entry, a token for another cluster and a tampered token get 401; a role
with only AmazonEKSViewPolicy reads ConfigMaps but gets 403 on Secrets; DescribeCluster
reports the API server's endpoint and CA. Plain asserts; exits non-zero on failure.
"""
import base64
import datetime
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from unittest import mock

import boto3
import botocore.session

import kube_stand
import local_server

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CLUSTER = "hub"
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})


def eks_token(session, cluster, region, sign_cluster=True):
    """An EKS bearer token, as `aws eks get-token` makes it: "k8s-aws-v1." + base64url
    (no padding) of a presigned STS GetCallerIdentity URL that signs x-k8s-aws-id =
    cluster, X-Amz-Expires 60 (https://docs.aws.amazon.com/eks/latest/userguide/cluster-auth.html).
    The URL names the real regional STS endpoint; nothing is sent. sign_cluster=False
    leaves the header out (a plain presigned GetCallerIdentity, which EKS refuses)."""
    sts = session.create_client("sts", region_name=region, endpoint_url=f"https://sts.{region}.amazonaws.com")

    def add_cluster_header(request, **_):
        request.headers["x-k8s-aws-id"] = cluster
    if sign_cluster:
        sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def session_for(credentials):
    session = botocore.session.Session()
    session.set_credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"],
                            credentials.get("SessionToken"))
    return session


class Kube:
    """HTTPS calls to the stand's kube-apiserver, trusting only its CA."""

    def __init__(self, stand):
        self.endpoint, self.context = stand.endpoint, ssl.create_default_context(cafile=stand.ca_file)

    def __call__(self, method, path, token, body=None):
        request = urllib.request.Request(
            self.endpoint + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")


def setup(url):
    creds = dict(endpoint_url=url, aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="secret")
    iam = boto3.client("iam", region_name="us-east-1", **creds)
    sts = boto3.client("sts", region_name=REGION, **creds)
    eks = boto3.client("eks", region_name=REGION, **creds)
    ec2 = boto3.client("ec2", region_name=REGION, **creds)
    roles = {}
    # The admin role has a path: its access entry names it, its session ARN does not.
    for name, path in (("argocd-hub", "/fleet/"), ("viewer", "/"), ("stranger", "/")):
        arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        assumed = sts.assume_role(RoleArn=arn, RoleSessionName=f"{name}-session")["Credentials"]
        roles[name] = (arn, session_for(assumed))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    eks.create_cluster(name=CLUSTER, version="1.32", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
                       resourcesVpcConfig={"subnetIds": subnets}, accessConfig={"authenticationMode": "API"})
    for name, policy in (("argocd-hub", CLUSTER_ADMIN), ("viewer", VIEW)):
        eks.create_access_entry(clusterName=CLUSTER, principalArn=roles[name][0],
                                kubernetesGroups=["fleet:" + name])
        eks.associate_access_policy(clusterName=CLUSTER, principalArn=roles[name][0], policyArn=policy,
                                    accessScope={"type": "cluster"})
    return eks, roles


SECRETS = "/api/v1/namespaces/argocd/secrets"
SECRET = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
          "metadata": {"name": "cluster-edge", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
          "stringData": {"name": "edge", "server": "https://edge.example"}}


def check_describe(t):
    """(e) DescribeCluster reports the attached API server."""
    cluster = t.eks.describe_cluster(name=CLUSTER)["cluster"]
    assert cluster["endpoint"] == t.stand.endpoint, cluster["endpoint"]
    assert base64.b64decode(cluster["certificateAuthority"]["data"]).decode() == t.stand.ca_pem


def check_cluster_admin(t):
    """(a) AmazonEKSClusterAdminPolicy through an access entry: a Secret's whole life in argocd,
    as the user EKS would report (the entry names the role with its path)."""
    admin_arn, admin = t.roles["argocd-hub"]
    assert admin_arn == f"arn:aws:iam::{ACCOUNT}:role/fleet/argocd-hub"
    token = eks_token(admin, CLUSTER, REGION)
    status, review = t.kube("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", token,
                            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert status == 201, (status, review)
    user = review["status"]["userInfo"]
    assert user["username"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/argocd-hub/argocd-hub-session", user
    assert "fleet:argocd-hub" in user["groups"], user
    assert user["extra"]["arn"] == [user["username"]], user
    assert user["extra"]["canonicalArn"] == [f"arn:aws:iam::{ACCOUNT}:role/argocd-hub"], user
    status, created = t.kube("POST", SECRETS, token, SECRET)
    assert status == 201, (status, created)
    status, got = t.kube("GET", f"{SECRETS}/cluster-edge", token)
    assert status == 200 and base64.b64decode(got["data"]["server"]) == b"https://edge.example", (status, got)
    got["data"]["server"] = base64.b64encode(b"https://edge2.example").decode()
    status, updated = t.kube("PUT", f"{SECRETS}/cluster-edge", token, got)
    assert status == 200 and base64.b64decode(updated["data"]["server"]) == b"https://edge2.example", status
    status, _ = t.kube("DELETE", f"{SECRETS}/cluster-edge", token)
    assert status == 200, status
    assert t.kube("GET", f"{SECRETS}/cluster-edge", token)[0] == 404


def check_no_entry(t):
    """(b) A role with no access entry: 401, as EKS answers."""
    status, answer = t.kube("GET", SECRETS, eks_token(t.roles["stranger"][1], CLUSTER, REGION))
    assert status == 401, (status, answer)


def check_other_cluster(t):
    """(c) A token made for another cluster: its signed x-k8s-aws-id no longer matches."""
    status, answer = t.kube("GET", SECRETS, eks_token(t.roles["argocd-hub"][1], "other-cluster", REGION))
    assert status == 401, (status, answer)


def check_bad_tokens(t):
    """A token whose signature was tampered with, and one that is no EKS token: 401."""
    token = eks_token(t.roles["argocd-hub"][1], CLUSTER, REGION)
    raw = base64.urlsafe_b64decode(token[len("k8s-aws-v1."):] + "==").decode()
    forged = raw[:-4] + ("0000" if not raw.endswith("0000") else "1111")
    forged = "k8s-aws-v1." + base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    assert t.kube("GET", SECRETS, forged)[0] == 401
    assert t.kube("GET", SECRETS, "not-an-eks-token")[0] == 401


def check_unsigned_cluster(t):
    """A presigned GetCallerIdentity that does not sign x-k8s-aws-id: 401."""
    status, answer = t.kube("GET", SECRETS, eks_token(t.roles["argocd-hub"][1], CLUSTER, REGION, sign_cluster=False))
    assert status == 401, (status, answer)


def check_token_age(t):
    """EKS takes a token for 15 minutes by its X-Amz-Date, though it says X-Amz-Expires=60."""
    def signed_ago(minutes):
        then = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=minutes)
        with mock.patch("botocore.auth.get_current_datetime", lambda: then):
            return eks_token(t.roles["argocd-hub"][1], CLUSTER, REGION)
    status, answer = t.kube("GET", SECRETS, signed_ago(14))
    assert status == 200, (status, answer)
    status, answer = t.kube("GET", SECRETS, signed_ago(16))
    assert status == 401, (status, answer)


def check_view_only(t):
    """(d) AmazonEKSViewPolicy only: reads ConfigMaps (the webhook allows it; RBAC has
    no binding for the user), but 403 on creating or listing Secrets."""
    viewer = eks_token(t.roles["viewer"][1], CLUSTER, REGION)
    assert t.kube("GET", "/api/v1/namespaces/argocd/configmaps", viewer)[0] == 200
    status, answer = t.kube("POST", SECRETS, viewer, SECRET)
    assert status == 403, (status, answer)
    assert t.kube("GET", SECRETS, viewer)[0] == 403


def check_changes(t):
    """Access changes take effect at once for authorization (webhook cache off): dropping
    the admin's policy leaves it authenticated but forbidden. kube-apiserver caches
    successful authentications for 10 s whatever the webhook's TTL
    (pkg/kubeapiserver/options/authentication.go, TokenSuccessCacheTTL, no flag), so a
    deleted entry shows on the next new token (a second later: it is signed anew)."""
    admin_arn, admin = t.roles["argocd-hub"]
    token = eks_token(admin, CLUSTER, REGION)
    assert t.kube("GET", SECRETS, token)[0] == 200
    t.eks.disassociate_access_policy(clusterName=CLUSTER, principalArn=admin_arn, policyArn=CLUSTER_ADMIN)
    assert t.kube("GET", SECRETS, token)[0] == 403
    t.eks.delete_access_entry(clusterName=CLUSTER, principalArn=admin_arn)
    time.sleep(1.1)
    fresh = eks_token(admin, CLUSTER, REGION)
    assert fresh != token
    status, answer = t.kube("GET", SECRETS, fresh)
    assert status == 401, (status, answer)


def check_detach(t):
    """Detaching gives the cluster moto's own endpoint back."""
    urllib.request.urlopen(urllib.request.Request(
        f"{t.url}/moto-fleet/kubernetes/{REGION}/{CLUSTER}", method="DELETE"), timeout=10)
    assert t.eks.describe_cluster(name=CLUSTER)["cluster"]["endpoint"] != t.stand.endpoint


CHECKS = [check_describe, check_cluster_admin, check_no_entry, check_other_cluster, check_bad_tokens,
          check_unsigned_cluster, check_token_age, check_view_only, check_changes, check_detach]


def main():
    # --keep-going runs every check and lists the failing ones (to see that each check
    # fails when the handling it covers is switched off); by default the first failure stops.
    keep_going = "--keep-going" in sys.argv[1:]
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_FLEET_REALISM="none")
    env.pop("MOTO_FLEET_DELAY_SECONDS", None)
    proc, url = local_server.start_moto_fleet(env)
    stand, failed = None, []
    try:
        eks, roles = setup(url)
        began = time.monotonic()
        stand = kube_stand.start(url, REGION, CLUSTER)
        print(f"kube-apiserver ready and attached in {time.monotonic() - began:.1f} s at {stand.endpoint}")
        t = type("Stand", (), {"url": url, "eks": eks, "roles": roles, "stand": stand, "kube": Kube(stand)})
        status, _ = t.kube("POST", "/api/v1/namespaces", stand.admin_token,
                           {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}})
        assert status == 201, status
        for check in CHECKS:
            if not keep_going:
                check(t)
                continue
            try:
                check(t)
            except AssertionError as err:
                failed.append(check.__name__)
                print(f"FAILED {check.__name__}: {str(err)[:200]}")
    finally:
        if stand:
            stand.stop()
        proc.terminate()
        proc.wait(10)
    if failed:
        return f"test_kube_stand: {len(failed)} of {len(CHECKS)} checks failed: {', '.join(failed)}"
    print("test_kube_stand: all checks passed")


if __name__ == "__main__":
    sys.exit(main())
