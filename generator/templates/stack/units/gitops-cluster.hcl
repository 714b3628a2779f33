# Unit gitops-cluster of the stack layout: the hub cluster of an environment
# (runs the GitOps controller). environments/<env>/terragrunt.stack.hcl
# generates it with the hub's settings, resolved from eksgen.toml, as values.
{% include "stack/_unit.hcl" %}
inputs = merge({
  name               = values.cluster_name
  region             = values.region
  vpc_cidr           = values.vpc_cidr
  kubernetes_version = values.kubernetes_version
  node_groups        = values.node_groups
  tags               = values.tags
{%- if gitops %}

  # A self-managed Argo CD gets its management role on the hub; the managed
  # one (capability) needs nothing here.
  gitops_hub = values.gitops_mode == "self-managed" ? { namespace = values.gitops_namespace } : null
{%- endif %}
}, local.extra.inputs)
