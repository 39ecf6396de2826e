variable "emulator_endpoint" {
  description = "URL of the Account Factory emulator that serves every AWS API the provider calls."
  type        = string
  default     = "http://127.0.0.1:4566"
}
