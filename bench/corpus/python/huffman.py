import heapq
from collections import Counter

def huffman_codes(text):
    heap = [(n, i, ch) for i, (ch, n) in enumerate(sorted(Counter(text).items()))]
    heapq.heapify(heap)
    nxt = len(heap)
    if len(heap) == 1:
        return {heap[0][2]: "0"}
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        heapq.heappush(heap, (a[0] + b[0], nxt, (a[2], b[2])))
        nxt += 1
    codes = {}
    def walk(node, prefix):
        if isinstance(node, tuple):
            walk(node[0], prefix + "0"); walk(node[1], prefix + "1")
        else:
            codes[node] = prefix
    walk(heap[0][2], "")
    return codes

def decode(bits, codes):
    inverse = {v: k for k, v in codes.items()}
    out, cur = [], ""
    for b in bits:
        cur += b
        if cur in inverse:
            out.append(inverse[cur]); cur = ""
    return "".join(out)

text = "this is an example of a huffman tree " * 300
codes = huffman_codes(text)
bits = "".join(codes[c] for c in text)
assert decode(bits, codes) == text
assert all(not b.startswith(a) for a in codes.values() for b in codes.values() if a != b)
weights = sorted(Counter(text).values())
cost = 0
while len(weights) > 1:
    a = heapq.heappop(weights); b = heapq.heappop(weights)
    cost += a + b
    heapq.heappush(weights, a + b)
assert len(bits) == cost < 8 * len(text) // 2
print("OK huffman")
