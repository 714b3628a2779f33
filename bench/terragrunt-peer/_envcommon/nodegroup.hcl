# The region's managed node group, on the eks unit's cluster.
terraform {
  source = "${dirname(find_in_parent_folders("root.hcl"))}/modules//nodegroup"
}

dependency "vpc" {
  config_path = "../vpc"
  mock_outputs = {
    private_subnet_ids = ["subnet-00000000000000001"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "iam" {
  config_path = "../iam"
  mock_outputs = {
    node_role_arn = "arn:aws:iam::123456789012:role/mock"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "eks" {
  config_path = "../eks"
  mock_outputs = {
    cluster_name = "bench"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  cluster_name  = dependency.eks.outputs.cluster_name
  node_role_arn = dependency.iam.outputs.node_role_arn
  subnet_ids    = dependency.vpc.outputs.private_subnet_ids
}
