#!/usr/bin/env bash
# Builds a Go command at an exact module version, cached by version, and
# installs it at OUT.
#
#   tools/build_go_tool.sh MODULE VERSION PACKAGE LDFLAGS OUT
#   tools/build_go_tool.sh github.com/gruntwork-io/terragrunt v1.1.3 . \
#       "-X github.com/gruntwork-io/terragrunt/internal/version.Version=v1.1.3" .venv/bin/terragrunt
#
# Terragrunt's and OpenTofu's go.mod files carry `replace` directives, which
# `go install MODULE@VERSION` refuses. So the module is downloaded through the
# module proxy (`go mod download -json`), copied out of the read-only module
# cache, and built inside its own directory with its own go.mod and go.sum.
# The binary is kept under $EKSFLEET_GO_TOOLS (default ~/.cache/eksfleet/go-tools),
# so a second run copies it in seconds.
#
# Optional, for modules whose go.mod points at directories the module zip lacks
# (tools/build_kube.sh): GO_TOOL_NAME names the cached binary (default: the
# module's last path element), GO_TOOL_PREPARE is a command run inside the
# writable copy before the build (it edits go.mod), and the build then runs with
# -mod=mod so go.sum gains the hashes of the modules the edit brought in.
set -euo pipefail

if [[ $# -ne 5 ]]; then
    echo "usage: $0 MODULE VERSION PACKAGE LDFLAGS OUT" >&2
    exit 2
fi
module=$1 version=$2 package=$3 ldflags=$4 out=$5
name=${GO_TOOL_NAME:-$(basename "$module")}
prepare=${GO_TOOL_PREPARE:-}
cache="${EKSFLEET_GO_TOOLS:-$HOME/.cache/eksfleet/go-tools}"
cached="$cache/$name-$version"

if [[ ! -x "$cached" ]]; then
    command -v go >/dev/null || {
        echo "$0: Go is needed to build $name $version (https://go.dev/dl/)" >&2
        exit 1
    }
    echo "building $name $version from $module (cached in $cache afterwards)" >&2
    dir=$(GOFLAGS=-mod=mod go mod download -json "$module@$version" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
    work=$(mktemp -d)
    trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
    cp -r "$dir/." "$work/src"
    chmod -R u+w "$work/src"
    mkdir -p "$cache"
    goflags=${GOFLAGS:-}
    if [[ -n "$prepare" ]]; then
        (cd "$work/src" && eval "$prepare")
        goflags="$goflags -mod=mod"
    fi
    (cd "$work/src" && GOWORK=off GOFLAGS="$goflags" CGO_ENABLED=0 \
        go build -trimpath -ldflags "$ldflags" -o "$work/bin" "$package")
    mv "$work/bin" "$cached.tmp"
    mv "$cached.tmp" "$cached"
fi
mkdir -p "$(dirname "$out")"
cp "$cached" "$out"
chmod +x "$out"
