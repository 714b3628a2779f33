# Environment {{ env | hcl_escape }}: one unit per region and kind, numbered by hand
# no more. Each unit's values are its region's settings resolved from
# eksgen.toml. `terragrunt stack generate` (or `run --all`) writes the units to
# .terragrunt-stack/<region>/<kind>; inputs of your own go in
# extra/<region>/<kind>.hcl next to this file.
{%- for unit in units %}

unit {{ unit.name | hcl }} {
  source = {{ unit.source | hcl }}
  path   = {{ unit.path | hcl }}
  values = {{ unit.values | hcl(indent=2) }}
}
{%- endfor %}
