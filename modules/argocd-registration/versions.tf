terraform {
  required_version = ">= 1.5"
  required_providers {
    fleet = {
      source  = "eksfleet/fleet"
      version = "~> 0.1"
    }
  }
}
