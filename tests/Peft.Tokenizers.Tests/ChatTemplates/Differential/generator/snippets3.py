import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
T = r'''
{{ 'yes' if [] | select else 'no' }}|{{ 'yes' if none | select else 'no' }}|{{ none | select | list }}|{{ none | map('upper') | list }}|{{ '' | selectattr('a') | list }}
{% set g = [1, 2, 3] | select('odd') %}{{ g | list }}{{ g | list }}|{% set r = [1, 2] | reverse %}{{ r | list }}{{ r | list }}|{{ [1, 2] | map('string') | join('-') }}|{{ [3, 1] | unique | list }}|{{ [1,2,3] | batch(2) | list }}
{% set d = {'a': 1, 'b': 2} %}{{ d.items() }}|{{ d.keys() }}|{{ d.values() }}|{{ d.items() | length }}|{{ d.keys() | list }}|{{ 'a' in d.keys() }}|{{ d.items() | list }}|{{ d.values() | sum }}|{{ {}.items() | length }}|{{ 'y' if {}.keys() else 'n' }}|{{ d.keys() | last }}|{{ d.items() | reverse | list }}|{{ d | reverse | list }}|{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}|{{ d.keys() is iterable }}|{{ d.keys() is sequence }}
{{ [1, 2] | select | first }}|{{ [1, 2] | map('string') | sort | list }}|{{ {'a': 1} | items | list }}|{{ [[1, 2]] | map('first') | list }}|{{ (1, 2) | reverse | list }}|{{ 'abc' | reverse }}|{{ [1, 2, 3] | select('gt', 1) | select('lt', 3) | list }}|{% for m in [{'r': 'a'}, {'r': 'b'}] | rejectattr('r', 'eq', 'a') %}{{ m.r }}{{ loop.length }}{{ loop.last }}{% endfor %}
'''.strip("\n").split("\n")
E = r'''
{{ [1] | select | length }}
{{ [1] | select | last }}
{{ [1] | select | tojson }}
{{ 1 | items | list }}
{{ {'a': 1}.items() | tojson }}
{{ 'a' in 5 }}
'''.strip("\n").split("\n")
out = []
for i, s in enumerate(T + E):
    c = {"id": f"gen{i}", "template": s, "messages": [], "add_generation_prompt": True, "variables": {}}
    c.update(run_case(c, s)); out.append(c)
    print(c["id"], repr(c.get("expected", c.get("expected_error_type", "") + ": " + c.get("expected_error", "")))[:600])
json.dump(out, open("snippets3.json", "w"), ensure_ascii=False, indent=1)
