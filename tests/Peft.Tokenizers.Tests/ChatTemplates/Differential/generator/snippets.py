import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import run_case
S = r'''
{{ 1 }}|{{ 1.0 }}|{{ 1e-05 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.1 + 0.2 }}|{{ 1/3 }}|{{ 10/2 }}|{{ 2**10 }}|{{ 2**-1 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 7.5 // 2 }}|{{ -0.0 }}|{{ 123456789.123456789 }}|{{ 1.5e300 * 1e10 }}
{{ none }}|{{ None }}|{{ true }}|{{ False }}|{{ [1, 'a', none, true, 2.5] }}|{{ {'a': 1, 'b': [none]} }}|{{ (1,) }}|{{ (1, 2) }}|{{ () }}
{{ ["it's", 'say "hi"', 'both \' and "', "tab\there", "nl\n", "back\\slash", "\x01\x7f", "é", "\u200d", "\xa0", "😀", "\U0001F469\u200D\U0001F4BB"] }}
{{ x }}|{{ x | default('d') }}|{{ x is defined }}|{{ x is undefined }}|{{ x | length }}|{% for i in x %}no{% else %}empty{% endfor %}|{{ 'a' if x else 'b' }}|{{ ('a' if false) }}|{{ x == x }}|{{ x | string }}|{{ x ~ 'z' }}
{{ '' != false }}|{{ 0 == false }}|{{ 1 == true }}|{{ 1 == 1.0 }}|{{ [1] == [1.0] }}|{{ (1,) == [1] }}|{{ 'a' < 'b' < 'c' }}|{{ 1 < 2 > 1 }}|{{ 'ab' in 'xaby' }}|{{ 1 in [1.0] }}|{{ 'a' in {'a': 1} }}|{{ 'a' not in 'b' }}|{{ none is none }}|{{ 1 is number }}|{{ true is number }}|{{ true is integer }}|{{ 1.0 is float }}|{{ 'x' is iterable }}|{{ 3 is odd }}|{{ 4 is even }}|{{ 9 is divisibleby 3 }}|{{ 'a' is lower }}|{{ 'A' is upper }}|{{ 2 is gt 1 }}|{{ 2 is in [1,2] }}|{{ none is sameas none }}|{{ {} is mapping }}|{{ [] is sequence }}|{{ range is callable }}|{{ 1 is eq 1 }}|{{ 1 is ne 2 }}
{% for a in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('x','y') }}{{ loop.depth }};{% endfor %}
{% for a in 'héllo' %}[{{ a }}]{% endfor %}|{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}|{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }},{% endfor %}|{% for a in range(10) if a is odd %}{{ a }}{{ loop.length }}{% endfor %}|{% for a in range(10) %}{% if a == 2 %}{% continue %}{% endif %}{% if a == 5 %}{% break %}{% endif %}{{ a }}{% endfor %}
{% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}|{% set ns = namespace(n=0, items=[]) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}|{{ ns }}
{% macro m(a, b=2, c='x') %}{{ a }}-{{ b }}-{{ c }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 3) }}|{{ m(1, c='y') }}|{{ m(1, 2, 3, 4, 5) }}|{{ m(1, z=9) }}|{{ m }}
{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ 1 + 1 }}{% endcall %}|{% macro lst(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) lst([1,2]) %}<{{ x }}>{% endcall %}
{% filter upper %}hello {{ 'world' }}{% endfilter %}|{% set b %}block {{ 1 }}{% endset %}{{ b }}|{% set c | upper %}abc{% endset %}{{ c }}|{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% with q = 5 %}{{ q }}{% endwith %}{{ q }}
{{ [1,2,3,4,5][1:3] }}|{{ [1,2,3,4,5][::-1] }}|{{ [1,2,3,4,5][::2] }}|{{ [1,2,3,4,5][-2:] }}|{{ [1,2,3,4,5][:-2] }}|{{ 'hello'[1:-1] }}|{{ 'hello'[::-1] }}|{{ [1,2,3][5:] }}|{{ [1,2,3][-10:2] }}|{{ [1,2,3,4,5][4:1:-2] }}|{{ 'abc'[-1] }}|{{ [1,2][5] }}|{{ [1,2][5] is defined }}|{{ [1,2].0 }}
{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\n\na\n'.lstrip('\n') }}|{{ '\n\na\n'.rstrip('\n') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b c '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('a') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'hello world'.title() }}|{{ "they're 1st".title() }}|{{ 'aBc'.upper() }}|{{ 'aBc'.lower() }}|{{ 'abc'.replace('b', 'X') }}|{{ 'abcb'.find('b') }}|{{ 'abcb'.count('b') }}|{{ '{} and {}'.format(1, 'x') }}|{{ '{0}{name}'.format(1, name='n') }}|{{ '-'.join(['a','b']) }}|{{ '123'.isdigit() }}|{{ 'ab'.capitalize() }}|{{ 'a\nb'.splitlines() }}
{{ '  x  ' | trim }}|{{ 'xxyxx' | trim('x') }}|{{ [1, 'a'] | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello wORLD' | capitalize }}|{{ 'hello-world foo(bar)' | title }}|{{ [1,2,3] | length }}|{{ 'abc' | count }}|{{ 'abc' | list }}|{{ [3,1,2] | first }}|{{ [3,1,2] | last }}|{{ 'abc' | last }}|{{ [1,2] | join(', ') }}|{{ [{'a': 1}, {'a': 2}] | join(',', attribute='a') }}|{{ [{'a': 1}, {'a': 2}] | map(attribute='a') | list }}|{{ ['a','b'] | map('upper') | list }}|{{ [{'a': 1}, {}] | map(attribute='a', default=0) | list }}
{{ [1,2,3,4] | select('odd') | list }}|{{ [1,2,3,4] | reject('odd') | list }}|{{ [0,1,'',2] | select | list }}|{{ [{'r': 'u'}, {'r': 'a'}, {}] | selectattr('r', 'equalto', 'u') | list }}|{{ [{'r': 'u'}, {'r': 'a'}, {}] | rejectattr('r', 'equalto', 'u') | list }}|{{ [{'r': 'u'}, {'r': ''}] | selectattr('r') | list }}|{{ [1,2,3] | select('in', [2,3]) | list }}|{{ [{'a': {'b': 1}}] | selectattr('a.b', 'eq', 1) | list }}
{{ {'b': 1, 'a': 2} | items | list }}|{{ {'b': 1, 'a': 2} | dictsort }}|{{ {'b': 1, 'a': 2} | dictsort(by='value') }}|{{ [3,1,2] | sort }}|{{ [3,1,2] | sort(reverse=true) }}|{{ ['b','A','c'] | sort }}|{{ ['b','A','c'] | sort(case_sensitive=true) }}|{{ [{'n': 2}, {'n': 1}] | sort(attribute='n') }}|{{ [1,2,1,'a','A'] | unique | list }}|{{ [3,1,2] | min }}|{{ [3,1,2] | max }}|{{ [1,2,3] | sum }}|{{ [{'v': 1}, {'v': 2}] | sum(attribute='v') }}|{{ [1,2,3] | reverse | list }}|{{ 'abc' | reverse }}|{{ [1,2,3,4,5] | batch(2) | list }}|{{ [1,2,3] | batch(2, 'x') | list }}
{{ '3' | int }}|{{ '3.7' | int }}|{{ 'x' | int }}|{{ 'x' | int(5) }}|{{ 3.9 | int }}|{{ '2.5' | float }}|{{ 'x' | float }}|{{ -3 | abs }}|{{ 2.5 | round }}|{{ 3.5 | round }}|{{ 2.567 | round(2) }}|{{ 2.5 | round(0, 'floor') }}|{{ 2.1 | round(0, 'ceil') }}|{{ 5 | round }}|{{ 'a b  c' | wordcount }}|{{ '<b>x</b>  y' | striptags }}|{{ '<&>"\'' | escape }}|{{ '<a>' | e }}|{{ 'x' | safe }}|{{ 'abc' | center(9) }}|{{ 'abc' | center(8) }}|{{ '%s-%d' | format('a', 3) }}|{{ 'hello world foo bar' | truncate(9) }}|{{ 'hello world foo bar baz qux' | truncate(9, true) }}|{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb\n\nc' | indent(2, true, true) }}|{{ 'a\nb' | indent('>>', first=true) }}
{{ {'a': 1, 'b': [1, 2.5, none, true], 'c': 'é"\n'} | tojson }}|{{ {'a': 1, 'b': [1, {}], 'c': []} | tojson(indent=2) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ [1, 2] | tojson(separators=(',', ':')) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ 1e-7 | tojson }}|{{ 1e100 | tojson }}|{{ {1: 2, true: 3, none: 4} | tojson }}|{{ ('a', 1) | tojson }}|{{ {'a': 1} | tojson(indent='\t') }}
{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %d, %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%A %a %j %p %I %y %e %-d %-m %U %W %w %u %c %x %X %%') }}
{{ range(3) | list }}|{{ range(1, 10, 3) | list }}|{{ range(5, 0, -2) | list }}|{{ dict(a=1, b=2) }}|{{ namespace(a=1).a }}|{{ 'a' ~ 1 ~ none ~ true }}|{{ 'ab' * 3 }}|{{ [1] * 2 }}|{{ [1] + [2] }}|{{ 'a' + 'b' }}|{{ 1 + 2.0 }}|{{ true + 1 }}|{{ 10 - 2.5 }}|{{ 3 * 1.5 }}|{{ -(3) }}|{{ not 1 }}|{{ 1 and 'x' }}|{{ 0 or 'y' }}|{{ none or [] }}
{%- if true -%}  a  {%- endif -%}  |  {{- 'b' -}}  |  {#- c -#}  d
  {% if true %}
    lstrip
  {% endif %}
  {%+ if true %}keep{% endif %}
  {{ 'var' }}
  {# comment #}
after
{% raw %}{{ not parsed }}{% endraw %}
{{ {'a': {'b': 'c'}}.a.b }}|{{ {'a': {'b': 'c'}}['a']['b'] }}|{{ {'items': 1}['items'] }}|{{ {'get': 1}.get('get') }}|{{ {'a': 1}.get('z') }}|{{ {'a': 1}.get('z', 5) }}|{{ {'a': 1}.keys() | list }}|{{ {'a': 1}.values() | list }}|{{ 'abc'.nothing }}|{{ {}.x is defined }}|{{ [].x is defined }}|{{ none.x is defined }}
'''.strip("\n").split("\n")
ERR = r'''
{{ x.y }}
{{ x['y'] }}
{{ x + 1 }}
{{ x() }}
{{ 'a' + {} }}
{{ 'a' + 1 }}
{{ 1 + 'a' }}
{{ [1] + 'a' }}
{{ 1 / 0 }}
{{ 1 // 0 }}
{{ raise_exception('boom: ' ~ 1) }}
{{ [].append(1) }}
{{ {}.update({}) }}
{{ 1 < 'a' }}
{{ none | length }}
{{ x | tojson }}
{{ 'x'.split('') }}
{% for a in none %}{% endfor %}
{% for a in 5 %}{% endfor %}
{{ x.y is defined }}
{% set z = 1 %}{% set z.a = 2 %}
{{ 'x' in 1 }}
{{ 1 in 'x' }}
{{ messages[0].role }}
{{ (1, 2) | tojson }}{{ {(1,2): 1} | tojson }}
'''.strip("\n").split("\n")
SYN = r'''
{% if %}
{% for x in %}{% endfor %}
{% if true %}
{% endif %}
{{ 1 + }}
{{ 'unterminated }}
{% foo %}
{{ (1 }}
{% for x in y %}{% endif %}
{{ a b }}
{% macro m(a=1, b) %}{% endmacro %}
'''.strip("\n").split("\n")
out = []
vars_ = {"bos_token": "<s>"}
for i, s in enumerate(S + ["\n".join(S[S.index(x):S.index(x)+9]) for x in S if x.startswith("{%- if true -%}")]):
    c = {"id": f"snippet{i}", "template": s, "messages": [], "add_generation_prompt": False, "variables": vars_}
    c.update(run_case(c, s)); out.append(c)
for i, s in enumerate(ERR):
    c = {"id": f"error{i}", "template": s, "messages": [], "add_generation_prompt": False, "variables": vars_}
    c.update(run_case(c, s)); out.append(c)
json.dump(out, open("snippets.json", "w"), ensure_ascii=False, indent=1)
for c in out:
    print(c["id"], repr(c.get("expected", c.get("expected_error_type", "") + ": " + c.get("expected_error", "")))[:3000])
import jinja2
from ref import ENV
for s in SYN:
    try:
        ENV.from_string(s); print("PARSED", s)
    except jinja2.TemplateSyntaxError as e:
        print("SYNTAX", repr(s), e.lineno, e.message)
