import random

class Trie:
    def __init__(self):
        self.root = {}

    def insert(self, word):
        node = self.root
        for ch in word:
            node = node.setdefault(ch, {})
        node["$"] = True

    def complete(self, prefix):
        node = self.root
        for ch in prefix:
            if ch not in node:
                return []
            node = node[ch]
        out, stack = [], [(node, prefix)]
        while stack:
            n, p = stack.pop()
            for k, child in n.items():
                if k == "$":
                    out.append(p)
                else:
                    stack.append((child, p + k))
        return sorted(out)

rng = random.Random(34)
words = sorted({"".join(rng.choice("abcde") for _ in range(rng.randint(1, 7))) for _ in range(4000)})
t = Trie()
for w in words:
    t.insert(w)
for prefix in ["", "a", "ab", "abc", "e", "dd", "eeee", "zz"]:
    assert t.complete(prefix) == [w for w in words if w.startswith(prefix)]
print("OK trie_autocomplete")
