from collections import deque
import string

def ladder(begin, end, words):
    words = set(words)
    if end not in words:
        return 0
    q, seen = deque([(begin, 1)]), {begin}
    while q:
        w, d = q.popleft()
        if w == end:
            return d
        for i in range(len(w)):
            for ch in string.ascii_lowercase:
                nw = w[:i] + ch + w[i + 1:]
                if nw in words and nw not in seen:
                    seen.add(nw)
                    q.append((nw, d + 1))
    return 0

assert ladder("hit", "cog", ["hot", "dot", "dog", "lot", "log", "cog"]) == 5
assert ladder("hit", "cog", ["hot", "dot", "dog", "lot", "log"]) == 0
chain = ["aaaa"]
for i in range(4):
    for _ in range(25):
        w = chain[-1]
        chain.append(w[:i] + chr(ord(w[i]) + 1) + w[i + 1:])
assert chain[-1] == "zzzz" and ladder("aaaa", "zzzz", chain) == 5
assert ladder("aaaa", "baaa", chain) == 2
print("OK word_ladder")
