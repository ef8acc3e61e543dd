import random
from collections import OrderedDict

class Node:
    __slots__ = ("key", "value", "prev", "next")

    def __init__(self, key=None, value=None):
        self.key, self.value, self.prev, self.next = key, value, None, None

class LRU:
    def __init__(self, capacity):
        self.capacity, self.map = capacity, {}
        self.head, self.tail = Node(), Node()
        self.head.next, self.tail.prev = self.tail, self.head

    def _unlink(self, n):
        n.prev.next, n.next.prev = n.next, n.prev

    def _front(self, n):
        n.next, n.prev = self.head.next, self.head
        self.head.next.prev = n
        self.head.next = n

    def get(self, key):
        n = self.map.get(key)
        if n is None:
            return -1
        self._unlink(n); self._front(n)
        return n.value

    def put(self, key, value):
        if key in self.map:
            n = self.map[key]; n.value = value
            self._unlink(n); self._front(n)
            return
        if len(self.map) == self.capacity:
            old = self.tail.prev
            self._unlink(old); del self.map[old.key]
        n = Node(key, value); self.map[key] = n; self._front(n)

class Reference:
    def __init__(self, capacity):
        self.capacity, self.d = capacity, OrderedDict()

    def get(self, key):
        if key not in self.d:
            return -1
        self.d.move_to_end(key)
        return self.d[key]

    def put(self, key, value):
        self.d[key] = value
        self.d.move_to_end(key)
        if len(self.d) > self.capacity:
            self.d.popitem(last=False)

rng = random.Random(35)
a, b = LRU(50), Reference(50)
for _ in range(40000):
    k = rng.randrange(120)
    if rng.random() < 0.5:
        assert a.get(k) == b.get(k)
    else:
        v = rng.randrange(1000); a.put(k, v); b.put(k, v)
print("OK lru_cache")
