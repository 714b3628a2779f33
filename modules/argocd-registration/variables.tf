variable "hub_region" {
  type        = string
  description = "Region of the hub cluster running Argo CD."
}

variable "hub_cluster_name" {
  type        = string
  description = "Name of the hub cluster running Argo CD."
}

variable "namespace" {
  type        = string
  description = "Namespace Argo CD runs in on the hub; the cluster Secret goes there."
  default     = "argocd"
}

variable "cluster_arn" {
  type        = string
  description = "ARN of the edge cluster to register (edge-cluster's cluster_arn)."
}

variable "role_arn" {
  type        = string
  description = "With mode = \"self-managed\": the edge's GitOps deploy role (edge-cluster's gitops_role_arn), which Argo CD assumes. Null with mode = \"capability\"."
  default     = null
}

variable "mode" {
  type        = string
  description = "self-managed (Argo CD installed on the hub) or capability (the managed Argo CD, EKS Capability)."
  default     = "self-managed"
  validation {
    condition     = contains(["self-managed", "capability"], var.mode)
    error_message = "mode must be \"self-managed\" or \"capability\"."
  }
}

variable "name" {
  type        = string
  description = "The cluster's name in Argo CD. Null: the edge cluster's name."
  default     = null
}

variable "secret_name" {
  type        = string
  description = "Name of the cluster Secret. Null: EDGE_NAME-EDGE_REGION-ACCOUNT. Changing it replaces the Secret."
  default     = null
}

variable "labels" {
  type        = map(string)
  description = "Labels of the cluster Secret (what ApplicationSets select edges by)."
  default     = {}
}

variable "annotations" {
  type        = map(string)
  description = "Annotations of the cluster Secret."
  default     = {}
}

variable "project" {
  type        = string
  description = "Argo CD project the cluster belongs to. Null: any project may deploy to it."
  default     = null
}
