#!/usr/bin/env bash
# Builds the real Kubernetes API for the hub test stand (#15): kube-apiserver and
# etcd from their Go modules at exact versions, through tools/build_go_tool.sh
# (cached by version under ~/.cache/eksfleet/go-tools), installed into BIN_DIR.
#
#   tools/build_kube.sh BIN_DIR            # e.g. .venv/bin
#
# Both go.mod files point sibling modules at directories the module zips lack
# (/work/shared/notes/test-harness.md, "A real Kubernetes API"), so a hook edits
# go.mod in the writable copy first: drop each local-path `replace` and require
# the published module instead.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
here=$(cd "$(dirname "$0")" && pwd)

# The hook, run inside the module copy: `build_kube.sh drop-local-replaces [VERSION]`.
# Every replace whose target is a local path (./staging/src/k8s.io/api, ../api)
# is dropped; with VERSION the module is required at it (k8s.io/kubernetes
# requires its staging modules as v0.0.0; v1.35.4's staging modules are
# published as v0.35.4). Without VERSION the existing require stays
# (etcd's go.mod already requires its siblings at the release version).
if [[ ${1:-} == drop-local-replaces ]]; then
    require_version=${2:-}
    go mod edit -json | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    new = r["New"]["Path"]
    if new.startswith("./") or new.startswith("../"):
        print(r["Old"]["Path"])
' | while read -r mod; do
        go mod edit -dropreplace="$mod"
        if [[ -n $require_version ]]; then
            go mod edit -require="$mod@$require_version"
        fi
    done
    exit 0
fi

if [[ $# -ne 1 ]]; then
    echo "usage: $0 BIN_DIR" >&2
    exit 2
fi
bin_dir=$1
staging_version="v0.${KUBE_VERSION#v1.}"   # v1.35.4 -> v0.35.4

GO_TOOL_NAME=kube-apiserver GO_TOOL_PREPARE="'$here/build_kube.sh' drop-local-replaces $staging_version" \
    "$here/build_go_tool.sh" k8s.io/kubernetes "$KUBE_VERSION" ./cmd/kube-apiserver \
    "-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION" "$bin_dir/kube-apiserver"

GO_TOOL_NAME=etcd GO_TOOL_PREPARE="'$here/build_kube.sh' drop-local-replaces" \
    "$here/build_go_tool.sh" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" . \
    "" "$bin_dir/etcd"   # the version is in its source; GitSHA stays "Not provided"

"$bin_dir/kube-apiserver" --version
"$bin_dir/etcd" --version
