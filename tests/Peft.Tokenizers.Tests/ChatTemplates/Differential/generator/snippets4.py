import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
fl = ["upper","lower","trim","length","count","first","last","join","list","sort","map('upper')","select","reject","selectattr('a')","items","string","int","float","default('d')","replace('a','b')","title","capitalize","center(5)","indent","sum","unique","min","max","batch(2)","wordcount","reverse","tojson","round","abs","dictsort","striptags","escape","truncate(3)","format()","attr('x')","safe","pprint","groupby('a')"]
out = []
for i, f in enumerate(fl):
    s = "{{ (x | %s) is defined }}|{{ x | %s }}" % (f, f)
    c = {"id": f"undef{i}", "template": s, "messages": [], "add_generation_prompt": True, "variables": {}}
    c.update(run_case(c, s)); out.append(c)
    print(f, repr(c.get("expected", c.get("expected_error_type", "") + ": " + c.get("expected_error", "")))[:200])
more = ["{{ x is string }}|{{ x is iterable }}|{{ x is none }}|{{ x is mapping }}|{{ x is number }}|{{ x is sequence }}|{{ x is callable }}|{{ x == none }}|{{ x != 1 }}|{{ not x }}|{{ x and 1 }}|{{ x or 2 }}|{{ x in [1] }}|{{ 1 in x }}|{{ x is odd }}",
        "{{ [x] }}", "{{ {'a': x} }}", "{{ x ~ x }}", "{{ -x }}", "{{ x < 1 }}", "{{ x * 2 }}", "{{ x[0] }}", "{{ x | length > 0 }}", "{{ [x] | tojson }}", "{{ x.y | default('z') }}", "{{ 'abc'[x] }}", "{{ [1][x] }}", "{{ {'a': 1}[x] }}", "{% for a, b in x %}{% endfor %}ok",
        "{{ messages[0] }}", "{{ messages[0] is defined }}", "{{ (messages | last) is defined }}", "{{ messages[5:] }}", "{{ tools[0] }}", "{{ tools | length }}", "{{ none | string }}", "{{ none | trim }}", "{{ none ~ 'x' }}", "{{ none is defined }}"]
for i, s in enumerate(more):
    c = {"id": f"undefm{i}", "template": s, "messages": [], "add_generation_prompt": True, "variables": {}}
    c.update(run_case(c, s)); out.append(c)
    print(s, repr(c.get("expected", c.get("expected_error_type", "") + ": " + c.get("expected_error", "")))[:200])
json.dump(out, open("snippets4.json", "w"), ensure_ascii=False, indent=1)
