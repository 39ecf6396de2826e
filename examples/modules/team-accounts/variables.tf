variable "organization_id" {
  description = "id of the kore_aws_organization (installation) that owns the accounts."
  type        = string
}

variable "team" {
  description = "Team that owns the accounts: a lowercase DNS label such as \"payments\"."
  type        = string
}

variable "environments" {
  description = "One account is created per environment, for example [\"notprod\", \"prod\"]."
  type        = list(string)

  validation {
    condition     = length(var.environments) > 0 && length(distinct(var.environments)) == length(var.environments)
    error_message = "The environments must be a non-empty list without duplicates."
  }
}

variable "prefix" {
  description = "First part of every account name, which is <prefix>-<team>-<environment>."
  type        = string
}

variable "close_on_deletion" {
  description = "Close each account after its Account Factory product is terminated on destroy."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on every account. Keys starting with \"kore:\" are reserved for the provider."
  type        = map(string)
  default     = {}
}
