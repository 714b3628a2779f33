# The hub cluster of an environment (runs the GitOps controller), in the
# hub region; shared/region.hcl holds its settings.
{% include "_env/source.hcl" %}
inputs = {
  name               = local.region.locals.cluster_name
  region             = local.region.locals.region
  vpc_cidr           = local.region.locals.vpc_cidr
  kubernetes_version = local.region.locals.kubernetes_version
  node_groups        = local.region.locals.node_groups
  tags               = local.region.locals.tags
{%- if gitops %}

  # A self-managed Argo CD gets its management role on the hub; the managed
  # one (capability) needs nothing here.
  gitops_hub = local.env.locals.gitops_mode == "self-managed" ? { namespace = local.env.locals.gitops_namespace } : null
{%- endif %}
}
