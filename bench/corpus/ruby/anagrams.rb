def groups(words)
  words.group_by { |w| w.chars.sort.join }.values.map(&:sort).sort
end

raise "example" unless groups(%w[eat tea tan ate nat bat]) == [%w[ate eat tea], %w[bat], %w[nat tan]]
rng = Random.new(3)
words = Array.new(3000) { Array.new(rng.rand(1..5)) { %w[a b c d][rng.rand(4)] }.join }
g = groups(words)
raise "size" unless g.sum(&:size) == words.size
raise "same" unless g.all? { |grp| grp.map { |w| w.chars.sort }.uniq.size == 1 }
raise "distinct" unless g.map { |grp| grp.first.chars.sort.join }.uniq.size == g.size
puts "OK anagrams"
