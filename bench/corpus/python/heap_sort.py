import heapq
import random

class MinHeap:
    def __init__(self):
        self.items = []

    def push(self, x):
        a = self.items
        a.append(x)
        i = len(a) - 1
        while i and a[(i - 1) // 2] > a[i]:
            a[(i - 1) // 2], a[i] = a[i], a[(i - 1) // 2]
            i = (i - 1) // 2

    def pop(self):
        a = self.items
        top = a[0]
        last = a.pop()
        if a:
            a[0] = last
            i = 0
            while True:
                l, r, m = 2 * i + 1, 2 * i + 2, i
                if l < len(a) and a[l] < a[m]:
                    m = l
                if r < len(a) and a[r] < a[m]:
                    m = r
                if m == i:
                    break
                a[i], a[m] = a[m], a[i]
                i = m
        return top

rng = random.Random(14)
data = [rng.randint(0, 10 ** 5) for _ in range(20000)]
h = MinHeap()
for x in data:
    h.push(x)
assert [h.pop() for _ in range(len(data))] == sorted(data)
assert heapq.nsmallest(10, data) == sorted(data)[:10]
print("OK heap_sort")
