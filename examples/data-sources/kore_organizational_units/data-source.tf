# The OUs that Account Factory can provision into.
data "kore_organizational_units" "registered" {
  registered_only = true
}

# Registered OUs that no installation has claimed yet.
output "unclaimed_organizational_units" {
  value = [
    for unit in data.kore_organizational_units.registered.organizational_units :
    unit.path if unit.claimed_by == null
  ]
}
