#!/usr/bin/env python3
"""gen_program.py — writes a large, type-correct procedure file for the front-end benchmark.

  gen_program.py [--dense] LINES > big.cfp

The program looks like real procedures: records, helper functions with loops, branches, string
interpolation, maps and lists, templates, comments and blank lines. With --dense, every line is
dense with templates and string interpolation instead (configuration generators: template
bodies with expressions, loops and conditions, strings with several `${...}` each), the front
end's hardest common case. It is deterministic (the same LINES give the same file) so that runs
compare."""
import sys


def dense_unit(i):
    return f'''// ---- unit {i}: configuration text of tier {i} ----
record Svc{i} {{ name: string, host: string, port: int, tags: list<string>, on: bool }}

template upstream{i}(svcs: list<Svc{i}>, zone: string, opts: map<string, string>) """
# upstreams of {{{{ zone }}}} (unit {i}, {{{{ len(svcs) }}}} services)
{{% for s in svcs %}}
upstream {{{{ s.name }}}}_{{{{ zone }}}} {{ server {{{{ s.host }}}}:{{{{ s.port }}}} max_fails={{{{ s.port % 7 + 1 }}}}; }}
{{% if s.on %}}
  # {{{{ s.name }}}} is up at {{{{ s.host }}}}:{{{{ s.port + 1 }}}} ({{{{ len(s.tags) }}}} tags)
{{% for t in s.tags %}}
  tag {{{{ t }}}} on {{{{ s.name }}}}.{{{{ zone }}}}
{{% end %}}
{{% else %}}
  # {{{{ s.name }}}} is down
{{% end %}}
{{% end %}}
{{% for k, v in opts %}}
option {{{{ k }}}} = "{{{{ v }}}}" # from {{{{ zone }}}}
{{% end %}}
"""

fn label{i}(s: Svc{i}, zone: string, n: int) -> string {{
  let a = "${{s.name}}.${{zone}}:${{s.port}}/${{n}}";
  let b = "svc=${{s.name}} host=${{s.host}} port=${{s.port + n}} tags=${{len(s.tags)}} on=${{s.on}}";
  let c = "${{a}} | ${{b}} | ${{"${{zone}}-${{n * 2}}"}} | ${{s.tags}}";
  return "[${{a}}] [${{b}}] [${{c}}] unit {i} zone ${{zone}} \\u{{e9}}\\t${{n}}";
}}

fn render{i}(zone: string) -> string {{
  let svcs = [Svc{i} {{ name: "web${{zone}}", host: "10.{i}.0.1", port: 80, tags: ["a${{zone}}", "b"], on: true }},
              Svc{i} {{ name: "db${{zone}}", host: "10.{i}.0.2", port: 5432, tags: [], on: false }}];
  let opts = {{"zone": "${{zone}}", "unit": "${{{i}}}", "pair": "${{zone}}/${{zone}}"}};
  let head = """
unit ${{{i}}} in ${{zone}}: ${{len(svcs)}} services, ${{len(opts)}} options
""";
  return head + upstream{i}(svcs, zone, opts) + label{i}(svcs[0], zone, {i});
}}

'''


def unit(i):
    return f'''// ---- unit {i}: placement and configuration of tier {i} ----
record Node{i} {{ name: string, address: string, port: int, weight: float, up: bool }}

fn make_nodes{i}(count: int, subnet: string) -> list<Node{i}> {{
  var out: list<Node{i}> = [];
  for k in 0..count {{
    let name = "node{i}-${{k}}";
    out.push(Node{i} {{ name: name, address: "${{subnet}}.${{10 + k}}", port: 8000 + k, weight: 1.5, up: k % 3 != 0 }});
  }}
  return out;
}}

fn healthy{i}(nodes: list<Node{i}>) -> map<string, int> {{
  var seen: map<string, int> = {{}};
  for n in nodes {{
    if n.up && n.port > 0 {{
      seen[n.name] = n.port;
    }} else if !n.up {{
      seen[n.name] = -1;
    }} else {{
      continue;
    }}
  }}
  return seen;
}}

/* Retries with a growing pause; gives up after `limit` attempts. */
fn backoff{i}(attempt: int, limit: int = 5) -> duration {{
  if attempt >= limit {{
    fail("unit {i}: gave up after ${{attempt}} attempts");
  }}
  var pause = 100ms;
  var n = 0;
  while n < attempt {{
    pause = pause * 2;
    n += 1;
  }}
  return pause + 50ms;
}}

template conf{i}(nodes: list<Node{i}>, name: string) """
# generated for {{{{ name }}}}
{{% for n in nodes %}}
server {{{{ n.address }}}}:{{{{ n.port }}}} weight={{{{ n.weight }}}}
{{% end %}}
"""

fn summary{i}(nodes: list<Node{i}>) -> json {{
  let counts = healthy{i}(nodes);
  let doc: json = {{"unit": {i}, "nodes": len(nodes), "healthy": counts, "tags": ["a", "b"]}};
  return doc;
}}

'''


def main():
    args = sys.argv[1:]
    dense = '--dense' in args
    args = [a for a in args if a != '--dense']
    lines = int(args[0]) if args else 50000
    make = dense_unit if dense else unit
    out = []
    n = 0
    i = 0
    while n < lines - 12:
        u = make(i)
        out.append(u)
        n += u.count('\n')
        i += 1
    out.append('procedure main() {\n')
    if dense:
        out.append('  print(render0("eu"));\n')
    else:
        out.append('  let nodes = make_nodes0(3, "10.0.0");\n')
        out.append('  print(conf0(nodes, "web"));\n')
        out.append('  print(summary0(nodes));\n')
        out.append('  print(backoff0(2));\n')
    out.append('}\n')
    text = ''.join(out)
    sys.stdout.write(text)


if __name__ == '__main__':
    main()
