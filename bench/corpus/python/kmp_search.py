import random

def prefix_function(p):
    pi = [0] * len(p)
    k = 0
    for i in range(1, len(p)):
        while k and p[i] != p[k]:
            k = pi[k - 1]
        if p[i] == p[k]:
            k += 1
        pi[i] = k
    return pi

def find_all(text, pattern):
    pi, k, hits = prefix_function(pattern), 0, []
    for i, ch in enumerate(text):
        while k and ch != pattern[k]:
            k = pi[k - 1]
        if ch == pattern[k]:
            k += 1
        if k == len(pattern):
            hits.append(i - k + 1)
            k = pi[k - 1]
    return hits

def naive(text, pattern):
    return [i for i in range(len(text) - len(pattern) + 1) if text.startswith(pattern, i)]

assert prefix_function("aabaaab") == [0, 1, 0, 1, 2, 2, 3]
rng = random.Random(31)
text = "".join(rng.choice("ab") for _ in range(40000))
for pat in ["a", "ab", "aba", "abba", "aaaa", "babab", "abaabaab"]:
    assert find_all(text, pat) == naive(text, pat)
print("OK kmp_search")
