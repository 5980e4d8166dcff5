package keyward.checks.required_tags

import rego.v1

# Only production identities are judged.
applies if input.environment == "production"

missing contains tag if {
	some tag in data.params.required_tags
	not input.tags[tag]
}

deny contains {"msg": sprintf("missing tags: %s", [concat(", ", sort(missing))]), "missing": sort(missing)} if {
	count(missing) > 0
}
