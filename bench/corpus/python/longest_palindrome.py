import random

def longest_palindrome(s):
    best = ""
    for center in range(2 * len(s) - 1):
        lo, hi = center // 2, center // 2 + center % 2
        while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
            lo -= 1
            hi += 1
        if hi - lo - 1 > len(best):
            best = s[lo + 1:hi]
    return best

def brute(s):
    return max((len(s[i:j]) for i in range(len(s)) for j in range(i, len(s) + 1) if s[i:j] == s[i:j][::-1]), default=0)

assert longest_palindrome("babad") in ("bab", "aba")
assert longest_palindrome("cbbd") == "bb"
rng = random.Random(33)
for _ in range(150):
    s = "".join(rng.choice("ab") for _ in range(rng.randint(0, 25)))
    p = longest_palindrome(s)
    assert p == p[::-1] and p in s and len(p) == brute(s)
print("OK longest_palindrome")
