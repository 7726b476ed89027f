parts = []
for i in range(500000):
    parts.append(f"item-{i}")
s = ",".join(parts)
print(len(s))
