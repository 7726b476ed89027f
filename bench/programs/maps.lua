local m, n = {}, 0
for i = 0, 2000000 - 1 do
  local k = "k" .. (i % 1000)
  if m[k] then m[k] = m[k] + 1 else m[k] = 1; n = n + 1 end
end
print(n)
print(m["k7"])
