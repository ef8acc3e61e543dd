require 'prime'

def sieve(n)
  flags = Array.new(n + 1, true)
  flags[0] = flags[1] = false
  (2..Integer.sqrt(n)).each do |p|
    next unless flags[p]
    (p * p).step(n, p) { |m| flags[m] = false }
  end
  flags.each_index.select { |i| flags[i] }
end

primes = sieve(200_000)
raise "count" unless primes.size == 17_984
raise "first" unless primes.first(10) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
raise "stdlib" unless primes.take_while { |p| p < 5000 } == Prime.each(5000).to_a
puts "OK primes_sieve"
