import random

PAIRS = {")": "(", "]": "[", "}": "{"}

def balanced(s):
    stack = []
    for ch in s:
        if ch in "([{":
            stack.append(ch)
        elif ch in PAIRS:
            if not stack or stack.pop() != PAIRS[ch]:
                return False
    return not stack

def balanced_slow(s):
    s = "".join(c for c in s if c in "()[]{}")
    prev = None
    while prev != s:
        prev = s
        s = s.replace("()", "").replace("[]", "").replace("{}", "")
    return s == ""

cases = {"()": True, "([]{})": True, "(]": False, "([)]": False, "{[]}": True, "": True, "(((": False}
for s, want in cases.items():
    assert balanced(s) == want
rng = random.Random(29)
for _ in range(3000):
    s = "".join(rng.choice("()[]{}x") for _ in range(rng.randint(0, 14)))
    assert balanced(s) == balanced_slow(s), s
print("OK balanced_brackets")
