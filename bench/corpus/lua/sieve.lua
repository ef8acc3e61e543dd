local function sieve(n)
  local composite, primes = {}, {}
  for i = 2, n do
    if not composite[i] then
      primes[#primes + 1] = i
      for m = i * i, n, i do composite[m] = true end
    end
  end
  return primes
end

local function is_prime(n)
  if n < 2 then return false end
  local d = 2
  while d * d <= n do
    if n % d == 0 then return false end
    d = d + 1
  end
  return true
end

local p = sieve(200000)
assert(#p == 17984, "count")
for n = 0, 3000 do
  local listed = false
  for _, q in ipairs(p) do
    if q == n then listed = true break end
    if q > n then break end
  end
  assert(listed == is_prime(n), "prime " .. n)
end
print("OK sieve")
