local function quicksort(a, lo, hi)
  lo, hi = lo or 1, hi or #a
  if lo >= hi then return a end
  local pivot, i = a[hi], lo - 1
  for j = lo, hi - 1 do
    if a[j] <= pivot then
      i = i + 1
      a[i], a[j] = a[j], a[i]
    end
  end
  a[i + 1], a[hi] = a[hi], a[i + 1]
  quicksort(a, lo, i)
  quicksort(a, i + 2, hi)
  return a
end

math.randomseed(5)
for _ = 1, 30 do
  local a, b = {}, {}
  for i = 1, math.random(0, 200) do a[i] = math.random(1, 1000); b[i] = a[i] end
  quicksort(a)
  table.sort(b)
  for i = 1, #b do assert(a[i] == b[i], "order") end
end
local big = {}
for i = 1, 50000 do big[i] = math.random(1, 1000000) end
quicksort(big)
for i = 2, #big do assert(big[i - 1] <= big[i]) end
print("OK quicksort")
