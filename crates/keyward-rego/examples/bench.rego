# The policy examples/bench.rs measures: the kind of custom check a Keyward user writes,
# several rules over one NHI's tags, facts and credentials, tuned by parameters.
package keyward.checks.bench

import rego.v1

applies if input.kind in {"service_account", "access_key", "api_key", "workload_identity"}

max_age := object.get(data.params, "max_age_days", 90)

required_tags := object.get(data.params, "required_tags", ["cost-center"])

deny contains {"msg": sprintf("credential `%s` is %d days old", [c.id, c.age_days]), "credential": c.id, "age_days": c.age_days} if {
	some c in input.credentials
	c.status == "active"
	c.age_days > max_age
}

deny contains {"msg": "unused credential is still active", "credential": c.id} if {
	some c in input.credentials
	c.status == "active"
	c.last_used_days > 60
}

deny contains "production NHI has no backup owner" if {
	input.environment == "production"
	not input.backup_owner
}

deny contains {"msg": "missing required tags", "missing": missing} if {
	missing := sort([t | some t in required_tags; not input.tags[t]])
	count(missing) > 0
}

deny contains sprintf("wildcard permission `%s`", [p]) if {
	some p in input.facts.permissions
	endswith(p, "*")
}

deny contains {"msg": "admin permission outside the allowed regions", "region": r} if {
	some p in input.facts.permissions
	startswith(p, "iam:")
	some r in input.facts.regions
	not r in object.get(data.params, "admin_regions", ["us-east-1"])
}
