# By the hub's region and name, Argo CD's namespace and the Secret's name:
terraform import 'fleet_argocd_cluster.edge["us-west-2"]' us-east-1/hub/argocd/edge-us-west-2-123456789012
