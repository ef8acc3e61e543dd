def fib_memo(n, memo = {})
  return n if n < 2
  memo[n] ||= fib_memo(n - 1, memo) + fib_memo(n - 2, memo)
end

def fib_iter(n)
  a, b = 0, 1
  n.times { a, b = b, a + b }
  a
end

(0..90).each { |n| raise "fib #{n}" unless fib_memo(n) == fib_iter(n) }
raise "f100" unless fib_iter(100) == 354_224_848_179_261_915_075
raise "digits" unless fib_iter(10_000).to_s.size == 2090
raise "sum" unless (1..1000).sum { |n| fib_iter(n) } == fib_iter(1002) - 1
puts "OK fibonacci_memo"
