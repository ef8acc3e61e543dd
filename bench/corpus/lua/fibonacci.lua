local memo = {}
local function fib(n)
  if n < 2 then return n end
  if memo[n] then return memo[n] end
  local v = fib(n - 1) + fib(n - 2)
  memo[n] = v
  return v
end

local function fib_iter(n)
  local a, b = 0, 1
  for _ = 1, n do a, b = b, a + b end
  return a
end

for n = 0, 90 do assert(fib(n) == fib_iter(n), "fib " .. n) end
assert(fib_iter(90) == 2880067194370816120)
local function slow(n) if n < 2 then return n end return slow(n - 1) + slow(n - 2) end
assert(slow(24) == 46368)
print("OK fibonacci")
