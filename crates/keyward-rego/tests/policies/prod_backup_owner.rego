# Production NHIs must name a backup owner: someone who can rotate or revoke the
# credential when its owner is away. The backup owner must be someone else.
package keyward.checks.prod_backup_owner

import rego.v1

applies if input.environment == "production"

# A backup owner is a non-blank string; null, "" and "  " do not count.
has_backup_owner if {
	is_string(input.backup_owner)
	trim_space(input.backup_owner) != ""
}

deny contains "production NHI has no backup owner" if not has_backup_owner

deny contains {"msg": "backup owner is the owner", "owner": input.owner} if {
	has_backup_owner
	input.backup_owner == input.owner
}
