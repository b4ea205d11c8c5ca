import json, os, sys, random
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
atoms = ["0", "1", "-3", "2.5", "0.1", "1e20", "''", "'ab'", "'A b'", "'ab' ~ 'c'", "none", "true", "false", "[]", "[1, 2]", "['b', 'a']", "[1, 'a']",
         "{}", "{'a': 1}", "{'k': [1, 2]}", "(1, 'x')", "x", "messages", "messages[0]", "messages[0].content", "' x '", "'é😀'", "[none, true]",
         "{'b': 2, 'a': 1}", "ns", "ns.v", "range(3)", "[[1, 2], [3]]", "'\\n'"]
binops = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]
filters = ["length", "first", "last", "list", "string", "trim", "upper", "lower", "title", "capitalize", "sort", "unique | list", "reverse | list", "join",
           "join(', ')", "tojson", "tojson(indent=2)", "items | list", "dictsort", "sum", "min", "max", "abs", "int", "float", "round", "default('d')",
           "default('d', true)", "select | list", "reject | list", "map('string') | list", "batch(2) | list", "wordcount", "count", "center(7)",
           "indent(2)", "replace('a', 'z')", "truncate(5)", "striptags", "escape", "pprint", "map(attribute='a') | list", "selectattr('a') | list"]
tests = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "callable", "boolean",
         "true", "false", "odd", "even", "lower", "upper", "divisibleby 2", "equalto 1", "in [1, 'ab']", "sameas none", "gt 1", "le 'b'"]
methods = ["strip()", "split()", "upper()", "title()", "startswith('a')", "replace('a', 'q')", "get('a')", "items() | list", "keys() | list",
           "values() | list", "count('a')", "find('b')", "lstrip('a')", "endswith(('b', 'c'))", "format(1)", "join(['x', 'y'])", "splitlines()", "index(1)"]
def expr(d=0):
    r = random.random()
    if d > 2 or r < 0.3: return random.choice(atoms)
    if r < 0.5: return f"({expr(d+1)} {random.choice(binops)} {expr(d+1)})"
    if r < 0.65: return f"({expr(d+1)} | {random.choice(filters)})"
    if r < 0.75: return f"({expr(d+1)} is {random.choice(['', 'not '])}{random.choice(tests)})"
    if r < 0.83: return f"{random.choice(atoms)}.{random.choice(methods)}"
    if r < 0.9: return f"({expr(d+1)} if {expr(d+1)} else {expr(d+1)})"
    if r < 0.95: return random.choice(atoms) + "[" + random.choice(['0', '-1', '1:', '::-1', "'a'", ':1', '5']) + "]"
    return f"(not {expr(d+1)})"
out = []
msgs = [{"role": "user", "content": "Hi"}]
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3000):
    t = "{% set ns = namespace(v=[1]) %}{{ " + expr() + " }}"
    c = {"id": f"fuzz{i}", "template": t, "messages": msgs, "add_generation_prompt": False, "variables": {}}
    r = run_case(c, t)
    if "expected" in r and "0x" in r["expected"]: continue
    if r.get("expected_error_type") in ("TemplateSyntaxError",): continue
    c.update(r); out.append(c)
json.dump(out, open("fuzz.json", "w"), ensure_ascii=False)
import collections
print(len(out), collections.Counter(c.get("expected_error_type", "ok") for c in out))
