# The edge cluster this unit registers with the hub's Argo CD (environment
# {{ cluster.env | hcl_escape }}), resolved from eksgen.toml.
locals {
  region       = {{ cluster.region | hcl }}
  cluster_name = {{ cluster.name | hcl }}
}
