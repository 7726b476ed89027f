s = 0
for i in range(20000000):
    s += i * i % 7
print(s)
