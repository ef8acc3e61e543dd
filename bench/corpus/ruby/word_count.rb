TEXT = <<~T
  It was the best of times, it was the worst of times, it was the age of wisdom,
  it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity.
T

def count_words(text)
  text.downcase.scan(/[a-z']+/).each_with_object(Hash.new(0)) { |w, h| h[w] += 1 }
end

counts = count_words(TEXT)
raise "it" unless counts["it"] == 6 && counts["was"] == 6 && counts["of"] == 6
top = counts.sort_by { |w, n| [-n, w] }.first(3).map(&:first)
raise "top" unless top == %w[it of the]
big = count_words(TEXT * 500)
raise "big" unless big.values.sum == TEXT.scan(/[A-Za-z']+/).size * 500
raise "tally" unless big == (TEXT * 500).downcase.scan(/[a-z']+/).tally
puts "OK word_count"
