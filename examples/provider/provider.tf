provider "fleet" {
  # Default region for resources that don't set their own.
  region = "us-east-1"

  default_tags = {
    ManagedBy = "terraform"
    Team      = "platform"
  }

  # Optional: act through a role, e.g. in a CI account.
  # assume_role = {
  #   role_arn     = "arn:aws:iam::123456789012:role/fleet-deployer"
  #   session_name = "ci"
  # }
}
