#!/usr/bin/env python3
"""gen_program.py — writes a large, type-correct procedure file for the front-end benchmark.

  gen_program.py LINES > big.cfp

The program looks like real procedures: records, helper functions with loops, branches, string
interpolation, maps and lists, templates, comments and blank lines. It is deterministic (the
same LINES give the same file) so that runs compare."""
import sys


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
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    out = []
    n = 0
    i = 0
    while n < lines - 12:
        u = unit(i)
        out.append(u)
        n += u.count('\n')
        i += 1
    out.append('procedure main() {\n')
    out.append('  let nodes = make_nodes0(3, "10.0.0");\n')
    out.append('  print(conf0(nodes, "web"));\n')
    out.append('  print(summary0(nodes));\n')
    out.append('  print(backoff0(2));\n')
    out.append('}\n')
    text = ''.join(out)
    sys.stdout.write(text)


if __name__ == '__main__':
    main()
