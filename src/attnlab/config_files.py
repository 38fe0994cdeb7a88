"""Config files as Snakemake reads them: merged in order, validated against the
workflow's schema (`workflow/schemas/config.schema.yaml`, the one home of every key's
default and description), defaults filled in. For the CLI and the benchmarks; the
workflow gets the same from Snakemake's `configfile` and `validate`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path("workflow/schemas/config.schema.yaml")


def find_schema(start: Path | str | None = None) -> Path:
    """The workflow's schema: in the checkout `start` (default: the one this package is
    installed from, else the working folder)."""
    roots = [Path(start)] if start else [Path(__file__).resolve().parents[2], Path.cwd()]
    for root in roots:
        if (root / SCHEMA_PATH).is_file():
            return root / SCHEMA_PATH
    raise FileNotFoundError(
        f"no {SCHEMA_PATH} under {' or '.join(map(str, roots))}: run from an attnlab "
        "checkout (the workflow's folder)"
    )


def read_schema(path: Path | str | None = None) -> dict:
    """The config schema at `path` (default: `find_schema()`)."""
    return yaml.safe_load(Path(path or find_schema()).read_text())


def merge(base: dict, overlay: Mapping) -> dict:
    """Snakemake's merge of config files: nested mappings merged key by key."""
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _with_defaults(validator_class):
    """A validator that fills in each property's schema default, as Snakemake's does."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def fill(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": fill})


def load_config(paths: Iterable[Path | str], schema: Mapping | None = None) -> dict:
    """Config files merged in order and validated, schema defaults filled in."""
    config: dict = {}
    for path in paths:
        merge(config, yaml.safe_load(Path(path).read_text()) or {})
    schema = schema or read_schema()
    _with_defaults(jsonschema.Draft202012Validator)(schema).validate(config)
    return config
