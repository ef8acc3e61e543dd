def merge_sort(a)
  return a if a.size <= 1
  mid = a.size / 2
  l, r = merge_sort(a[0...mid]), merge_sort(a[mid..])
  out = []
  out << (l.first <= r.first ? l.shift : r.shift) while !l.empty? && !r.empty?
  out + l + r
end

def insertion_sort(a)
  a = a.dup
  (1...a.size).each do |i|
    x, j = a[i], i - 1
    while j >= 0 && a[j] > x
      a[j + 1] = a[j]
      j -= 1
    end
    a[j + 1] = x
  end
  a
end

rng = Random.new(1)
50.times do
  a = Array.new(rng.rand(0..60)) { rng.rand(-100..100) }
  raise "merge sort" unless merge_sort(a) == a.sort
  raise "insertion sort" unless insertion_sort(a) == a.sort
end
big = Array.new(20_000) { rng.rand(1_000_000) }
raise "big" unless merge_sort(big) == big.sort
puts "OK sort_algorithms"
