"""packaging/rules.schema.json accepts the example rules and rejects broken files that a
schema can judge (unknown keys, wrong types, bad enums, bad durations)."""
import json
import pathlib
import sys

import jsonschema

root = pathlib.Path(sys.argv[1])
schema = json.loads((root / "packaging/rules.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

failures = 0
example = json.loads((root / "packaging/examples/rules.json").read_text())
errors = list(validator.iter_errors(example))
if errors:
    print("example rules rejected by the schema:", errors[0].message)
    failures += 1

schema_judgeable = ["typo-key-suggestion", "unknown-top-level-key", "bad-duration", "duration-with-months",
                    "bad-stage", "bad-recipients", "wrong-type-reference", "wrong-type-domains",
                    "missing-owner", "missing-organization", "bad-id-chars", "root-is-array",
                    "wrong-type-people", "bad-address"]
for name in schema_judgeable:
    doc = json.loads((root / f"tests/data/config/rules/{name}.json").read_text())
    if validator.is_valid(doc):
        print(f"schema accepted broken file {name}.json")
        failures += 1

print(f"{1 + len(schema_judgeable) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
