import json, os, sys, random
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
random.seed(int(sys.argv[1]))
texts = ["a", " ", "\n", "\t", "  \n", "x\n  ", "\n\n", " \t ", "b ", "\n  c", "", "\r\n", " \n ", "\u00a0"]
def l(): return random.choice(["", "", "-", "+"])
def r(): return random.choice(["", "", "-", "+"])
def text(): return "".join(random.choice(texts) for _ in range(random.randint(0, 3)))
def block(d=0):
    out = text()
    for _ in range(random.randint(1, 4)):
        k = random.random()
        if k < 0.25 or d > 2:
            out += "{{" + random.choice(["", "-"]) + " 'v' " + random.choice(["", "-"]) + "}}"
        elif k < 0.4:
            out += "{#" + random.choice(["", "-", "+"]) + " c " + random.choice(["", "-", "+"]) + "#}"
        elif k < 0.6:
            out += "{%" + l() + " if " + random.choice(["true", "false"]) + " " + r() + "%}" + block(d + 1)
            if random.random() < 0.4: out += "{%" + l() + " else " + r() + "%}" + block(d + 1)
            out += "{%" + l() + " endif " + r() + "%}"
        elif k < 0.75:
            out += "{%" + l() + " for i in [1, 2] " + r() + "%}" + block(d + 1) + "{%" + l() + " endfor " + r() + "%}"
        elif k < 0.85:
            out += "{%" + l() + " set z = 1 " + r() + "%}"
        else:
            out += "{%" + l() + " raw " + r() + "%}" + text() + "{{ x }}" + text() + "{%" + l() + " endraw " + r() + "%}"
        out += text()
    return out
out = []
for i in range(int(sys.argv[2])):
    t = block()
    c = {"id": f"ws{i}", "template": t, "messages": [], "add_generation_prompt": False, "variables": {}}
    c.update(run_case(c, t)); out.append(c)
json.dump(out, open("wsfuzz.json", "w"), ensure_ascii=False)
import collections
print(len(out), collections.Counter(c.get("expected_error_type", "ok") for c in out))
