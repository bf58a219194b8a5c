"""Reads a JUnit XML report the way CI tooling does and prints what it saw as JSON.

Used by tests/doctor_lab.rs on `pgconn doctor --format junit`: the report is parsed by
junitparser (a real JUnit consumer) and validated with xmlschema against junit.xsd next
to this file. Usage: python read_report.py REPORT.xml
"""

import json
import sys
from pathlib import Path

import xmlschema
from junitparser import JUnitXml


def results(case):
    return [
        {
            "kind": type(r).__name__.lower(),
            "message": r.message,
            "type": r.type,
            "text": r.text,
        }
        for r in case.result
    ]


def suite_view(suite):
    return {
        "name": suite.name,
        "tests": suite.tests,
        "failures": suite.failures,
        "errors": suite.errors,
        "skipped": suite.skipped,
        "time": suite.time,
        "properties": {p.name: p.value for p in suite.properties()},
        "cases": [
            {
                "classname": case.classname,
                "name": case.name,
                "time": case.time,
                "result": results(case),
                "system_out": case.system_out,
            }
            for case in suite
        ],
    }


def main(path):
    schema = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))
    errors = [str(e) for e in schema.iter_errors(path)]
    report = JUnitXml.fromfile(path)
    suites = [suite_view(s) for s in report]
    print(
        json.dumps(
            {
                "schema_errors": errors,
                "root": type(report).__name__,
                "totals": {
                    "tests": report.tests,
                    "failures": report.failures,
                    "errors": report.errors,
                    "time": report.time,
                },
                "suites": suites,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
