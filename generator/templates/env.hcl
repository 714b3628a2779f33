# Environment {{ env | hcl_escape }}: read by every unit below this folder.
locals {
  environment  = {{ env | hcl }}
  hub_region   = {{ hub.region | hcl }}
  hub_vpc_cidr = {{ hub.cidr | hcl }}
{%- if gitops %}

  # GitOps, from [environments.{{ env | hcl_escape }}.gitops] (all null without it):
  # self-managed (Argo CD on the hub) or capability (the managed Argo CD).
  gitops_mode                = {{ gitops.gitops_mode | hcl }}
  gitops_namespace           = {{ gitops.gitops_namespace | hcl }}
  gitops_capability_role_arn = {{ gitops.gitops_capability_role_arn | hcl }}
{%- endif %}
}
