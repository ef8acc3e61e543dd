import re

def is_palindrome(s):
    t = re.sub(r"[^a-z0-9]", "", s.lower())
    i, j = 0, len(t) - 1
    while i < j:
        if t[i] != t[j]:
            return False
        i += 1
        j -= 1
    return True

cases = {
    "A man, a plan, a canal: Panama": True,
    "race a car": False,
    "": True,
    "No 'x' in Nixon": True,
    "Was it a car or a cat I saw?": True,
    "hello": False,
}
for text, want in cases.items():
    assert is_palindrome(text) == want, text
count = sum(1 for n in range(200000) if is_palindrome(str(n)))
assert count == sum(1 for n in range(200000) if str(n) == str(n)[::-1])
print("OK palindromes")
