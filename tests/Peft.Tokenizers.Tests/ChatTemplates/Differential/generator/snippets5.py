import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
T = ['{% macro m(a) %}{{a}}{% endmacro %}{{ m(1, 2) }}','{% macro m(a) %}{{a}}{% endmacro %}{{ m(1, z=2) }}','{% macro m(a) %}{{a}}{% endmacro %}{% call m(1) %}x{% endcall %}','{% macro m(a) %}{{a}}{% endmacro %}{{ m(1, a=2) }}','{% macro m(a) %}{{a}}{{ varargs }}{% endmacro %}{{ m(1, 2) }}', '{% macro m() %}{{ kwargs }}{% endmacro %}{{ m(b=1) }}', '{% macro m(a, b) %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}|{{ m(1) is defined }}',
     '{% macro m() %}{{ caller is defined }}{% endmacro %}{{ m() }}', '{% macro m() %}[{{ caller() }}]{% endmacro %}{% call m() %}{% macro inner() %}{{ caller is defined }}{% endmacro %}{{ inner() }}{% endcall %}',
     '{% macro m(a, b=a) %}{{ b }}{% endmacro %}{{ m(3) }}', '{% macro outer() %}{% macro inner(x) %}<{{ x }}>{% endmacro %}{{ inner(1) }}{{ inner(2) }}{% endmacro %}{{ outer() }}']
out = []
for i, s in enumerate(T):
    c = {"id": f"macro{i}", "template": s, "messages": [], "add_generation_prompt": True, "variables": {}}
    c.update(run_case(c, s)); out.append(c)
    print(c["id"], repr(c.get("expected", c.get("expected_error_type", "") + ": " + c.get("expected_error", "")))[:600])
json.dump(out, open("snippets5.json", "w"), ensure_ascii=False, indent=1)
