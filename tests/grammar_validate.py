#!/usr/bin/python3
# Validates generated JSON against its schema with Debian's python3-fastjsonschema, a validator
# independent of tandem's grammar code. Input: the schemas file (a JSON array) and a JSON-lines
# file of {"schema": index, "text": output}. Prints one line per invalid output; exit status 1 if
# any, 2 if the validator is missing.
import json
import sys

try:
    import fastjsonschema
except ImportError:
    print("python3-fastjsonschema is not installed")
    sys.exit(2)

schemas = json.load(open(sys.argv[1]))
# Draft 7 has no uuid format; RFC 4122's text form.
formats = {"uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}
validators = [fastjsonschema.compile(s, formats=formats) for s in schemas]
bad = n = 0
for line in open(sys.argv[2]):
    rec = json.loads(line)
    n += 1
    try:
        validators[rec["schema"]](json.loads(rec["text"]))
    except (ValueError, fastjsonschema.JsonSchemaException) as e:
        bad += 1
        print(f"schema {rec['schema']}: {rec['text']!r}: {e}")
print(f"{n - bad}/{n} valid")
sys.exit(1 if bad else 0)
