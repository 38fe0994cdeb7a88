"""Every config key has a default or is required, a description, and a line in config/README.md."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
README = (ROOT / "config/README.md").read_text()


def resolve(node):
    while "$ref" in node:
        node = {
            **SCHEMA["$defs"][node["$ref"].split("/")[-1]],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    return node


def properties(node):
    """(name, schema) of every property below `node`, through $ref, allOf and the like."""
    node = resolve(node)
    found = list(node.get("properties", {}).items())
    for part in node.get("allOf", []):
        found += properties(part)
    for key in ("additionalProperties", "items"):
        if isinstance(node.get(key), dict):
            found += properties(node[key])
    for child in node.get("properties", {}).values():
        found += properties(child)
    return found


def documented_row(name):
    """The README table row of key `name` (its first cell names it, maybe as a.b.name)."""
    for line in README.splitlines():
        cell = line.split("|")[1] if line.startswith("| `") else ""
        if any(form in cell for form in (f"`{name}`", f".{name}`", f"`{name}.", f"].{name}`")):
            return line
    return None


def test_every_key_is_described_and_documented():
    keys = [(name, resolve(child)) for name, child in properties(SCHEMA) if len(child) > 1]
    assert len({name for name, _ in keys}) > 40
    undescribed = sorted({name for name, child in keys if "description" not in child})
    # Sub-keys of early_stopping, fractions and a variant mapping are described by their parent.
    assert set(undescribed) <= {
        "monitor",
        "patience",
        "restore_best_weights",
        "train",
        "val",
        "test",
        "name",
        "block",
        "blocks",
        "stages",
    }
    described = [name for name, child in keys if "description" in child]
    missing = sorted({name for name in described if not documented_row(name)})
    assert not missing, f"config/README.md does not document {missing}"


def test_documented_defaults_are_the_schema_defaults():
    for name, child in properties(SCHEMA):
        if "default" in child and child["default"] not in ({}, None):
            row = documented_row(name)
            shown = yaml.safe_load(row.split("|")[2].strip().strip("`"))
            assert shown == child["default"], (name, shown, child["default"])
