local text = string.rep("the quick brown fox jumps over the lazy dog and the dog sleeps ", 500)
local counts, total = {}, 0
for w in text:gmatch("%a+") do
  counts[w] = (counts[w] or 0) + 1
  total = total + 1
end
assert(counts.the == 1500 and counts.dog == 1000 and counts.fox == 500)
assert(total == 13 * 500)
local words = {}
for w in pairs(counts) do words[#words + 1] = w end
table.sort(words, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b] and a < b) end)
assert(words[1] == "the" and words[2] == "dog")
local replaced = text:gsub("dog", "cat")
assert(not replaced:find("dog") and select(2, replaced:gsub("cat", "")) == 1000)
print("OK word_count")
