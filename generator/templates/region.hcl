# {% if cluster.role == "hub" %}The hub{% else %}Edge region{% endif %} of environment {{ cluster.env | hcl_escape }}, every setting resolved from eksgen.toml.
locals {
  region               = {{ cluster.region | hcl }}
  role                 = {{ cluster.role | hcl }}
  cluster_name         = {{ cluster.name | hcl }}
  vpc_cidr             = {{ cluster.cidr | hcl }}
  kubernetes_version   = {{ cluster.kubernetes_version | hcl }}{% if not cluster.kubernetes_version %} # the newest in EKS standard support at create, then kept{% endif %}
  account_id           = {{ cluster.account_id | hcl }}
  provider_assume_role = {{ provider_assume_role | hcl(indent=2) }}
  node_groups          = {{ cluster.node_groups | hcl(indent=2) }}
  tags                 = {{ cluster.tags | hcl(indent=2) }}
{%- if cluster.role == "edge" %}

  # Peering with the hub: the hub's account when it differs (else null), and
  # the role the accepter assumes there.
  hub_account_id      = {{ peering.hub_account_id | hcl }}
  hub_assume_role_arn = {{ peering.hub_assume_role_arn | hcl }}
  peering_auto_accept = {{ peering.auto_accept | hcl }}
{%- endif %}
}
