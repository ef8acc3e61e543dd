import random
from collections import deque

def window_max(a, k):
    dq, out = deque(), []
    for i, x in enumerate(a):
        while dq and a[dq[-1]] <= x:
            dq.pop()
        dq.append(i)
        if dq[0] <= i - k:
            dq.popleft()
        if i >= k - 1:
            out.append(a[dq[0]])
    return out

def longest_unique(s):
    last, start, best = {}, 0, 0
    for i, ch in enumerate(s):
        if last.get(ch, -1) >= start:
            start = last[ch] + 1
        last[ch] = i
        best = max(best, i - start + 1)
    return best

assert window_max([1, 3, -1, -3, 5, 3, 6, 7], 3) == [3, 3, 5, 5, 6, 7]
assert longest_unique("abcabcbb") == 3 and longest_unique("pwwkew") == 3
rng = random.Random(45)
for _ in range(40):
    a = [rng.randint(-100, 100) for _ in range(300)]
    k = rng.randint(1, 30)
    assert window_max(a, k) == [max(a[i:i + k]) for i in range(len(a) - k + 1)]
    s = "".join(rng.choice("abcdef") for _ in range(60))
    assert longest_unique(s) == max(j - i for i in range(len(s)) for j in range(i, len(s) + 1) if len(set(s[i:j])) == j - i)
print("OK sliding_window")
