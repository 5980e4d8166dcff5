# NHIs must carry the tags named in `data.params.required_tags`, `cost-center`
# alone when the parameter is absent. A tag whose value is blank is missing.
#
# Plain Rego v1: no `import rego.v1` is needed.
package keyward.checks.required_tags

default required := ["cost-center"]

required := data.params.required_tags

present(tag) if {
	value := input.tags[tag]
	is_string(value)
	trim_space(value) != ""
}

missing contains tag if {
	some tag in required
	not present(tag)
}

deny contains {"msg": sprintf("missing required tags: %s", [concat(", ", names)]), "missing": names} if {
	names := sort(missing)
	count(names) > 0
}
