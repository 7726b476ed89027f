import jinja2
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
t = env.from_string("""upstream {{ name }} {
{% for s in servers %}
    server {{ s.address }}:{{ s.port }} weight={{ s.weight }}; # {{ s.name }}
{% endfor %}
}
""")
servers = [dict(name=f"web-{i}", address=f"10.0.{i // 250}.{i % 250}", port=8000 + i % 100, weight=1 + i % 5) for i in range(1000)]
total = 0
for r in range(300):
    total += len(t.render(name=f"pool{r}", servers=servers))
print(total)
