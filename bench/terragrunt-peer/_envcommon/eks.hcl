# The region's EKS cluster, in the vpc unit's private subnets, with the iam unit's role.
terraform {
  source = "${dirname(find_in_parent_folders("root.hcl"))}/modules//eks"
}

# Mocks serve a plan of a tree never applied (the bench plans applied trees).
dependency "vpc" {
  config_path = "../vpc"
  mock_outputs = {
    private_subnet_ids    = ["subnet-00000000000000001"]
    api_security_group_id = "sg-00000000000000001"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "iam" {
  config_path = "../iam"
  mock_outputs = {
    cluster_role_arn = "arn:aws:iam::123456789012:role/mock"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  name               = "bench"
  kubernetes_version = "1.34"
  cluster_role_arn   = dependency.iam.outputs.cluster_role_arn
  subnet_ids         = dependency.vpc.outputs.private_subnet_ids
  security_group_ids = [dependency.vpc.outputs.api_security_group_id]
}
