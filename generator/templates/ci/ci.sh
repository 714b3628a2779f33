# The steps of this tree's CI jobs; the pipeline files `eksgen ci` writes
# call it, and so can a shell:
#   bash .eksfleet/ci.sh check                  eksgen check: the tree is what eksgen.toml renders
#   bash .eksfleet/ci.sh plan GROUP             plan GROUP's changed units and their dependents
#   bash .eksfleet/ci.sh apply GROUP            apply them
#   bash .eksfleet/ci.sh plan-removed ENV       plan the destroy of ENV's units the change removed
#   bash .eksfleet/ci.sh destroy-removed ENV    destroy them, from the base revision's files
#   bash .eksfleet/ci.sh changed                the groups the change touched (GitHub job outputs)
# A GROUP is an environment's hub (ENV/hub) or one of its edge regions
# (ENV/REGION: the edge cluster, both peering sides, its Argo CD registration).
#
# EKSFLEET_BASE   the revision the change is compared with: the merge
#                 request's base, the last applied commit. Unset or all
#                 zeros: every unit of the group is selected.
# AWS_ID_TOKEN    an OIDC token (GitLab id_tokens); the job then assumes the
#                 group's role by web identity, never with a stored key.
# EKSGEN, TERRAGRUNT, TG_TF_PATH   tools to use instead of the pinned ones.
set -euo pipefail

TERRAGRUNT_VERSION={{ ci.terragrunt_version }}
OPENTOFU_VERSION={{ ci.opentofu_version }}
EKSGEN_VERSION={{ eksgen_version }}
EKSGEN_SOURCE={{ eksgen_source }}
PROVIDER_MIRROR={{ ci.provider_mirror | default(value="") }}
OUT_DIR="${EKSFLEET_OUT_DIR:-$PWD/.eksfleet/out}"
TOOLS_DIR="${EKSFLEET_TOOLS_DIR:-$HOME/.cache/eksfleet-ci/v$EKSGEN_VERSION}"
ZERO=0000000000000000000000000000000000000000
ENVIRONMENTS="{% for environment in pipeline.environments %}{% if not loop.first %} {% endif %}{{ environment.env }}{% endfor %}"

# GROUP  OUTPUT  ROLE_ARN  UNIT...   (OUTPUT: the GitHub job output listing it)
group_table() {
  cat <<'GROUPS'
{% for job in jobs %}{{ job.group }} {{ job.output }} {{ job.role_arn }}{% for unit in job.units %} {{ unit }}{% endfor %}
{% endfor %}GROUPS
}
{% raw %}
say() { printf 'eksfleet-ci: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Sets GROUP_ROLE and GROUP_UNITS for "$1", or fails naming the groups there are.
load_group() {
  local group output role units
  while read -r group output role units; do
    if [ "$group" = "$1" ]; then
      GROUP_ROLE=$role
      read -r -a GROUP_UNITS <<<"$units"
      return 0
    fi
  done < <(group_table)
  die "no group $1 in this tree; groups are: $(group_table | cut -d' ' -f1 | tr '\n' ' ')"
}

base_revision() {
  local base="${EKSFLEET_BASE:-}"
  if [ -z "$base" ] || [ "$base" = "$ZERO" ]; then
    return 0
  fi
  git rev-parse --verify --quiet "$base^{commit}" >/dev/null ||
    die "EKSFLEET_BASE=$base is not a commit of this clone: fetch the whole history (GitLab GIT_DEPTH: 0, GitHub fetch-depth: 0)"
  printf '%s' "$base"
}

platform() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Terragrunt or OpenTofu release for $(uname -m)" ;;
  esac
  printf '%s_%s' "$(uname -s | tr '[:upper:]' '[:lower:]')" "$arch"
}

# download URL FILE SUMS_URL: FILE, checked against the release's SHA256SUMS.
download() {
  local url=$1 file=$2 sums=$3 name
  name=$(basename "$url")
  curl -fsSL --retry 3 -o "$file.part" "$url"
  curl -fsSL --retry 3 -o "$file.sums" "$sums"
  (cd "$(dirname "$file")" && grep " \*\{0,1\}$name\$" "$(basename "$file").sums" | sed "s| \*\{0,1\}$name\$|  $(basename "$file").part|" | sha256sum -c --quiet -) ||
    die "$name does not match its release's SHA256SUMS"
  rm -f "$file.sums"
  mv "$file.part" "$file"
}

ensure_terragrunt() {
  if [ -n "${TERRAGRUNT:-}" ]; then
    return 0
  fi
  if command -v terragrunt >/dev/null && terragrunt --version 2>/dev/null | grep -q "v$TERRAGRUNT_VERSION\$"; then
    TERRAGRUNT=terragrunt
    return 0
  fi
  local bin="$TOOLS_DIR/terragrunt-$TERRAGRUNT_VERSION"
  if [ ! -x "$bin" ]; then
    say "installing Terragrunt $TERRAGRUNT_VERSION"
    mkdir -p "$TOOLS_DIR"
    local release="https://github.com/gruntwork-io/terragrunt/releases/download/v$TERRAGRUNT_VERSION"
    download "$release/terragrunt_$(platform)" "$bin" "$release/SHA256SUMS"
    chmod +x "$bin"
  fi
  TERRAGRUNT=$bin
}

# Terragrunt runs TG_TF_PATH when set; else OpenTofu at the pinned version.
ensure_engine() {
  if [ -n "${TG_TF_PATH:-}" ]; then
    return 0
  fi
  if command -v tofu >/dev/null && tofu version 2>/dev/null | head -1 | grep -q "v$OPENTOFU_VERSION\$"; then
    export TG_TF_PATH=tofu
    return 0
  fi
  local dir="$TOOLS_DIR/tofu-$OPENTOFU_VERSION"
  if [ ! -x "$dir/tofu" ]; then
    say "installing OpenTofu $OPENTOFU_VERSION"
    mkdir -p "$dir"
    local release="https://github.com/opentofu/opentofu/releases/download/v$OPENTOFU_VERSION"
    local zip="tofu_${OPENTOFU_VERSION}_$(platform).zip"
    download "$release/$zip" "$dir/$zip" "$release/tofu_${OPENTOFU_VERSION}_SHA256SUMS"
    python3 -m zipfile -e "$dir/$zip" "$dir"
    chmod +x "$dir/tofu"
  fi
  export TG_TF_PATH="$dir/tofu"
}

ensure_eksgen() {
  if [ -n "${EKSGEN:-}" ]; then
    return 0
  fi
  if command -v eksgen >/dev/null && [ "$(eksgen --version)" = "eksgen $EKSGEN_VERSION" ]; then
    EKSGEN=eksgen
    return 0
  fi
  if [ ! -x "$TOOLS_DIR/bin/eksgen" ]; then
    say "installing eksgen $EKSGEN_VERSION from $EKSGEN_SOURCE"
    cargo install --quiet --locked --root "$TOOLS_DIR" --git "$EKSGEN_SOURCE" --tag "v$EKSGEN_VERSION" eksgen
  fi
  EKSGEN="$TOOLS_DIR/bin/eksgen"
}

# The provider from [ci] provider_mirror, unless the runner has its own CLI configuration.
ensure_provider_source() {
  if [ -z "$PROVIDER_MIRROR" ] || [ -n "${TF_CLI_CONFIG_FILE:-}" ]; then
    return 0
  fi
  mkdir -p "$TOOLS_DIR"
  export TF_CLI_CONFIG_FILE="$TOOLS_DIR/provider-mirror.tfrc"
  cat >"$TF_CLI_CONFIG_FILE" <<MIRROR
provider_installation {
  network_mirror {
    url     = "$PROVIDER_MIRROR"
    include = ["registry.terraform.io/eksfleet/fleet", "registry.opentofu.org/eksfleet/fleet"]
  }
  direct {
    exclude = ["registry.terraform.io/eksfleet/fleet", "registry.opentofu.org/eksfleet/fleet"]
  }
}
MIRROR
}

# OIDC web identity: the SDKs, Terraform's S3 backend and the provider all
# assume AWS_ROLE_ARN with the token file; static keys would win, so none stay.
assume_role() {
  local role=$1
  if [ -z "${AWS_ID_TOKEN:-}" ]; then
    return 0
  fi
  [ -n "$role" ] || die "AWS_ID_TOKEN is set but no role is named for this job"
  local token_file
  token_file=$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/eksfleet-web-identity.XXXXXX")
  printf '%s' "$AWS_ID_TOKEN" >"$token_file"
  export AWS_WEB_IDENTITY_TOKEN_FILE="$token_file" AWS_ROLE_ARN="$role"
  export AWS_ROLE_SESSION_NAME="eksfleet-ci-${CI_JOB_ID:-${GITHUB_RUN_ID:-$$}}"
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
}

# The --filter flags selecting GROUP_UNITS: the units the change touched and
# those depending on them (Terragrunt's git and graph expressions), or all.
group_filters() {
  local base=$1 unit
  FILTERS=()
  for unit in "${GROUP_UNITS[@]}"; do
    if [ -n "$base" ]; then
      FILTERS+=(--filter "...[$base...HEAD] | ./$unit")
    else
      FILTERS+=(--filter "./$unit")
    fi
  done
}

# The units of environment "$1" the change removed (their terragrunt.hcl is gone).
removed_units() {
  local env=$1 base=$2
  [ -n "$base" ] || return 0
  git diff --name-only --diff-filter=D "$base" HEAD -- "environments/$env/" |
    sed -n 's|/terragrunt\.hcl$||p' | sort -u
}

# Plan: 1 to add, 0 to change, 0 to destroy. → GitLab's Terraform report.
report_counts() {
  awk '
    match($0, /Plan: [0-9]+ to add, [0-9]+ to change, [0-9]+ to destroy/) {
      split(substr($0, RSTART, RLENGTH), n, /[^0-9]+/)
      add += n[2]; change += n[3]; destroy += n[4]
    }
    END { printf "{\"create\": %d, \"update\": %d, \"delete\": %d}\n", add, change, destroy }
  ' "$1"
}

summarize() {
  local title=$1 log=$2 out=$3
  report_counts "$log" >"$out/report.json"
  {
    printf '### %s\n\n' "$title"
    printf 'Changes (create, update, delete): `%s`\n\n' "$(cat "$out/report.json")"
    printf '<details><summary>Terragrunt output</summary>\n\n```\n'
    grep -v '^\s*$' "$log" | tail -n 400
    printf '```\n</details>\n\n'
  } >"$out/summary.md"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$out/summary.md" >>"$GITHUB_STEP_SUMMARY"
  fi
}

# terragrunt run --all ARGS..., its output in "$LOG" too; returns its exit code.
run_all() {
  set +e
  "$TERRAGRUNT" run --all --non-interactive --no-color "$@" 2>&1 | tee "$LOG"
  local status=${PIPESTATUS[0]}
  set -e
  return "$status"
}

prepare() {
  ensure_terragrunt
  ensure_engine
  ensure_provider_source
}

# plan|apply GROUP
run_group() {
  local command=$1 group=$2 base out
  load_group "$group"
  base=$(base_revision)
  out="$OUT_DIR/${group//\//-}"
  rm -rf "$out"
  mkdir -p "$out"
  LOG="$out/$command.log"
  prepare
  assume_role "$GROUP_ROLE"
  group_filters "$base"
  local status=0
  if [ "$command" = plan ]; then
    run_all "${FILTERS[@]}" --out-dir "$out/plans" -- plan -input=false -lock-timeout=10m || status=$?
  else
    run_all "${FILTERS[@]}" -- apply -input=false -lock-timeout=10m || status=$?
  fi
  summarize "$command of $group${base:+ (changes since ${base:0:12})}" "$LOG" "$out"
  if [ "$status" -ne 0 ]; then
    say "$command of $group failed (exit $status); the jobs that need $group are not run"
  fi
  return "$status"
}

# plan-removed|destroy-removed ENV: the removed units, from the base revision.
run_removed() {
  local command=$1 env=$2 base out unit
  base=$(base_revision)
  out="$OUT_DIR/$env-removed"
  rm -rf "$out"
  mkdir -p "$out"
  LOG="$out/$command.log"
  local units=()
  while read -r unit; do
    [ -n "$unit" ] && units+=("$unit")
  done < <(removed_units "$env" "$base")
  if [ ${#units[@]} -eq 0 ]; then
    say "no unit of $env was removed"
    report_counts /dev/null >"$out/report.json"
    return 0
  fi
  say "removed from $env: ${units[*]}"
  prepare
  local role
  role=$(group_table | awk -v g="$env/hub" '$1 == g { print $3 }')
  assume_role "$role"
  FILTERS=()
  for unit in "${units[@]}"; do
    FILTERS+=(--filter "[$base...HEAD] | ./$unit")
  done
  local status=0
  if [ "$command" = plan-removed ]; then
    run_all "${FILTERS[@]}" --filter-allow-destroy -- plan -input=false -lock-timeout=10m || status=$?
  else
    run_all "${FILTERS[@]}" --filter-allow-destroy -- apply -input=false -lock-timeout=10m || status=$?
  fi
  summarize "$command of $env" "$LOG" "$out"
  return "$status"
}

# GitHub job outputs: groups (every changed group), removed (environments
# with removed units), and per OUTPUT the matrix of its changed groups.
changed() {
  local base selected group output role units
  base=$(base_revision)
  ensure_terragrunt
  if [ -n "$base" ]; then
    selected=$("$TERRAGRUNT" find --non-interactive --no-color --filter "...[$base...HEAD]")
  else
    selected=$("$TERRAGRUNT" find --non-interactive --no-color)
  fi
  declare -A matrices=()
  local groups=() removed=() unit
  while read -r group output role units; do
    for unit in $units; do
      if grep -qxF -e "$unit" -e "./$unit" <<<"$selected"; then
        groups+=("\"$group\"")
        matrices[$output]+="${matrices[$output]:+,}{\"group\":\"$group\",\"role_arn\":\"$role\"}"
        break
      fi
    done
    matrices[$output]+=""
  done < <(group_table)
  local env
  for env in $ENVIRONMENTS; do
    if [ -n "$(removed_units "$env" "$base")" ]; then
      removed+=("\"$env\"")
    fi
  done
  {
    printf 'groups=[%s]\n' "$(IFS=,; echo "${groups[*]}")"
    printf 'removed=[%s]\n' "$(IFS=,; echo "${removed[*]}")"
    for output in "${!matrices[@]}"; do
      printf '%s=[%s]\n' "$output" "${matrices[$output]}"
    done
  } | tee -a "${GITHUB_OUTPUT:-/dev/null}"
}

main() {
  local command=${1:-}
  case "$command" in
    check)
      ensure_eksgen
      "$EKSGEN" check
      ;;
    plan | apply)
      [ $# -eq 2 ] || die "usage: ci.sh $command GROUP"
      run_group "$command" "$2"
      ;;
    plan-removed | destroy-removed)
      [ $# -eq 2 ] || die "usage: ci.sh $command ENV"
      run_removed "$command" "$2"
      ;;
    changed)
      changed
      ;;
    *)
      die "usage: ci.sh check | plan GROUP | apply GROUP | plan-removed ENV | destroy-removed ENV | changed"
      ;;
  esac
}

main "$@"
{% endraw %}
