# Reference renderer: Python jinja2 configured the way transformers configures it (written from the README's description).
import json, os, sys
from datetime import datetime
import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

class Generation(Extension):
    tags = {"generation"}
    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.Scope(body, lineno=lineno)

def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, jinja2.ext.loopcontrols])
    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)
    def strftime_now(fmt):
        return datetime(2025, 3, 7, 9, 5, 3).strftime(fmt)
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env

ENV = make_env()

def render(template, messages, tools=None, agp=False, variables=None):
    t = ENV.from_string(template)
    return t.render(messages=messages, tools=tools, documents=None, add_generation_prompt=agp, **(variables or {}))

def run_case(c, template):
    try:
        out = render(template, c["messages"], c.get("tools"), c.get("add_generation_prompt", False), c.get("variables"))
        return {"expected": out}
    except jinja2.exceptions.TemplateError as e:
        src = "raise_exception" if type(e) is jinja2.exceptions.TemplateError else "runtime"
        return {"expected_error": str(e), "expected_error_type": type(e).__name__, "error_source": src}
    except Exception as e:
        return {"expected_error": str(e), "expected_error_type": type(e).__name__, "error_source": "runtime"}

if __name__ == "__main__":
    cases = json.load(open(sys.argv[1]))
    bad = 0
    for c in cases:
        r = run_case(c, c["template"])
        if "expected" in c:
            ok = r.get("expected") == c["expected"]
        else:
            ok = r.get("expected_error") == c["expected_error"] or c["error_source"] == "runtime" and "expected_error" in r
        if not ok:
            bad += 1
            print("MISMATCH", c["id"], repr(r)[:200])
    print(len(cases), "cases,", bad, "mismatches")
