import re
from collections import Counter

TEXT = """It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness, it was the spring of hope,
it was the winter of despair."""

def frequencies(text):
    counts = {}
    for word in re.findall(r"[a-z']+", text.lower()):
        counts[word] = counts.get(word, 0) + 1
    return counts

def top(counts, k):
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

f = frequencies(TEXT)
assert f["it"] == 10 and f["was"] == 10 and f["of"] == 10 and f["the"] == 10
assert top(f, 4) == [("it", 10), ("of", 10), ("the", 10), ("was", 10)]
big = TEXT * 200
assert frequencies(big) == dict(Counter(re.findall(r"[a-z']+", big.lower())))
print("OK word_frequency")
