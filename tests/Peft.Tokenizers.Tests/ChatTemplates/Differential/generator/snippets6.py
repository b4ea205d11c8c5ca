import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
T = ["{% for g in [{'a': 'x', 'v': 1}, {'a': 'X', 'v': 2}, {'a': 'y', 'v': 3}] | groupby('a') %}{{ g.grouper }}:{{ g.list | map(attribute='v') | join(',') }};{% endfor %}",
     "{{ [{'a': 1}, {'a': 2}, {'a': 1}] | groupby('a') }}", "{% for k, items in [{'a': 1}, {'a': 1}] | groupby('a') %}{{ k }}{{ items | length }}{% endfor %}",
     "{{ ([{'a': 1}] | groupby('a'))[0].grouper }}|{{ ([{'a': 1}] | groupby('a'))[0][1] }}",
     "{{ [{'a': 'b'}, {'a': 'B'}] | groupby('a', case_sensitive=true) | length }}"]
out = []
for i, s in enumerate(T):
    c = {"id": f"group{i}", "template": s, "messages": [], "add_generation_prompt": True, "variables": {}}
    c.update(run_case(c, s)); out.append(c)
    print(c["id"], repr(c.get("expected", c.get("expected_error_type", "") + ": " + c.get("expected_error", "")))[:600])
json.dump(out, open("snippets6.json", "w"), ensure_ascii=False, indent=1)
