import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
T = r'''
  {% if true %}
  x
  {% endif %}
  y
=====
{% for m in [1,2] %}
    {{ m }}
{% endfor %}
=====
{%- for m in [1,2] %}
    {{- m }}
{% endfor -%}
tail
=====
a   {% if true %}b{% endif %}   c
	{% if true %}tab{% endif %}
 {{ 'v' }} {% if true %}
w{% endif %}
=====
line1
   {#- c #}
   {# c2 -#}   x
{# c3 #}
y
=====
{% if true +%}
keep-newline{% endif %}
{%+ if true %}x{% endif %}
=====
text with trailing newline

=====
{{ 'a' }}
{{ 'b' }}
=====
  {%- set x = 1 -%}
  {{ x }}  
  {%- set y = 2 %}  
  {{ y }}
=====
{% raw -%}
   {{ raw }}
{%- endraw %}
x
=====
{{ "a" "b" 'c' }}|{{ '\u00e9\x41\d\'\"\\\n' }}|{{ "\N{BULLET}" if false else 'z' }}
=====
{{ -1 | abs }}|{{ 'a' ~ 'b' | upper }}|{{ not none is none }}|{{ 1 if 0 else 2 if 0 else 3 }}|{{ [1,2,3] | map('string') | join }}|{{ x is not defined }}|{{ 2 * 3 + 4 }}|{{ 2 + 3 * 4 }}|{{ 2 ** 3 ** 2 }}|{{ -2 ** 2 }}|{{ (1 + 2) * 3 }}|{{ 10 - 3 - 2 }}|{{ 1 ~ 2 + 3 }}
=====
{% for a in [1,2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }}{% endfor %}{{ loop.index }};{% endfor %}
=====
{% set items = [{'name': 'a', 'children': [{'name': 'b', 'children': []}]}] %}{% for i in items recursive %}<{{ i.name }}{{ loop.depth }}{% if i.children %}{{ loop(i.children) }}{% endif %}>{% endfor %}
=====
{% for a in [1,2,3] %}{{ loop.changed(a > 1) }}{% endfor %}|{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}|{% set j = joiner('-') %}{% for x in [1,2,3] %}{{ j() }}{{ x }}{% endfor %}
=====
{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}|{% macro g() %}{{ outer }}{% endmacro %}{% set outer = 'late' %}{{ g() }}
=====
{% set d = {'a': [1, {'b': 'c'}]} %}{{ d.a[1].b }}|{{ d['a'][0] }}|{{ d.a.1.b }}|{{ d.get('a')[0] }}|{{ d | length }}|{{ d.a | last }}
=====
{{ 'Straße'.upper() }}|{{ 'ÉCOLE'.lower() }}|{{ 'élan vital'.title() }}|{{ 'ǆx'.title() }}|{{ 'ß' | upper }}|{{ '😀abc'[1] }}|{{ '😀abc' | length }}|{{ '😀abc'[::-1] }}
=====
{{ 1e300 * 1e300 }}|{{ 0.1 * 3 }}|{{ 100.0 }}|{{ 1.0e22 }}|{{ 123456789012345678.0 }}|{{ 0.0001 }}|{{ 0.00001234 }}|{{ 2.5e-5 }}|{{ 1/7 }}|{{ 5e-324 }}|{{ 1.7976931348623157e308 }}|{{ 9007199254740993 }}|{{ 3.0 == 3 }}
=====
{{ [1, [2, (3, 'x')], {'k': (1,)}] }}|{{ {'a': none, 'b': {'c': true}} }}|{{ ['a\'b'] }}|{{ ['"'] }}|{{ ["'\""] }}|{{ 'x' | string }}|{{ [none] | string }}|{{ {} }}|{{ [] }}
=====
{{ '%s|%r|%d|%5.2f|%-4s|%04d|%x|%%' % ('a', 'b', 3.7, 2.345, 'x', 42, 255) }}|{{ '%(a)s-%(b)s' % {'a': 1, 'b': 2} }}|{{ '{:>5}|{:<5}|{:^5}|{:.2f}|{:05d}|{!r}'.format('a', 'b', 'c', 3.14159, 42, 'q') }}
=====
{% set ns = namespace(found=false) %}{% for m in [1, 2] %}{% if m == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}|{% set lst = [] %}{% set lst = lst + [1] %}{{ lst }}
=====
{% for x in [] %}a{% else %}b{% endfor %}|{% for x in [1] if x > 5 %}a{% else %}c{% endfor %}|{% for k, v in [('a', 1), ('b', 2)] %}{{ k }}{{ v }}{% endfor %}|{% for k, v in {'a': 1} | dictsort %}{{ k }}{{ v }}{% endfor %}
=====
{{ messages | length }}|{{ messages[0].role }}|{{ messages[0]['content'] }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages[-1].content | trim }}|{{ messages[0].content.split('</think>')[-1] }}|{{ 'tool_calls' in messages[0] }}|{{ messages[0].get('nothing', 'fb') }}|{{ messages[0].nothing is none }}
=====
{{ bos_token }}{{ eos_token }}|{{ unknown_token }}|{{ tools }}|{{ tools is none }}|{{ tools is defined }}|{{ documents is none }}|{{ add_generation_prompt }}
=====
{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}[{{ content.strip() }}]{% endfor %}{{ content }}
=====
{{ '  x'.lstrip() }}|{{ 'x\t\n '.rstrip() }}|{{ 'a b'.split(none, 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'abc'.partition('b') }}|{{ 'Hello'.swapcase() }}|{{ '5'.zfill(3) }}|{{ 'ab'.center(6, '*') }}|{{ 'x'.ljust(3) }}|{{ 'x'.rjust(3, '0') }}|{{ 'prefix-x'.removeprefix('prefix-') }}|{{ 'a.b'.replace('.', '', 1) }}|{{ ''.replace('', 'x') }}|{{ 'ab'.index('b') }}
=====
{{ [3, 1, 2] | sort | first }}|{{ ['b', 'a'] | sort | join }}|{{ [{'a': 2, 'b': 1}, {'a': 1, 'b': 2}] | sort(attribute='a,b') | map(attribute='b') | list }}|{{ [1, 2, 3, 4] | batch(3) | map('length') | list }}|{{ {'x': 1} | dictsort(reverse=true) }}|{{ ['a', 'B'] | max }}|{{ ['a', 'B'] | max(case_sensitive=true) }}|{{ [] | first }}|{{ [] | sum }}|{{ [1.5, 2] | sum }}
=====
{% set x %}
  block
{% endset %}[{{ x }}]
=====
{% if true %}
    {% if true %}
        nested
    {% endif %}
{% endif %}
=====
{% for i in range(2) -%}
  {{ i }}
{%- endfor %}
=====
{%- macro m() -%}
  M
{%- endmacro -%}
[{{ m() }}]
{{ m() }}
'''.strip("\n").split("\n=====\n")
out = []
msgs = [{"role": "system", "content": " Sys "}, {"role": "user", "content": "<think>a</think>Hi "}]
for i, s in enumerate(T):
    c = {"id": f"ws{i}", "template": s, "messages": msgs, "add_generation_prompt": True, "variables": {"bos_token": "<s>", "eos_token": "</s>"}}
    c.update(run_case(c, s)); out.append(c)
json.dump(out, open("snippets2.json", "w"), ensure_ascii=False, indent=1)
for c in out:
    print(c["id"], repr(c.get("expected", c.get("expected_error_type", "") + ": " + c.get("expected_error", "")))[:3000])
