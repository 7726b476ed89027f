m = {}
for i in range(2000000):
    k = f"k{i % 1000}"
    if k in m:
        m[k] += 1
    else:
        m[k] = 1
print(len(m))
print(m["k7"])
