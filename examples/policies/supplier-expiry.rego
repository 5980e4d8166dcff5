package keyward.checks.supplier_expiry_horizon

import rego.v1

applies if input.supplier

day_ns := ((24 * 60) * 60) * 1000000000

deny contains msg if {
	not input.expires_at
	msg := sprintf("shared with %s and never expires", [input.supplier])
}

deny contains {"msg": msg, "expires_at": input.expires_at} if {
	horizon := time.parse_rfc3339_ns(input.now) + (data.params.max_days * day_ns)
	time.parse_rfc3339_ns(input.expires_at) > horizon
	msg := sprintf("shared with %s and expires %s, beyond %d days", [input.supplier, substring(input.expires_at, 0, 10), data.params.max_days])
}
