import itertools
import random

def knapsack(items, capacity):
    best = [0] * (capacity + 1)
    for weight, value in items:
        for c in range(capacity, weight - 1, -1):
            best[c] = max(best[c], best[c - weight] + value)
    return best[capacity]

def brute(items, capacity):
    top = 0
    for mask in itertools.product((0, 1), repeat=len(items)):
        w = sum(it[0] for it, m in zip(items, mask) if m)
        if w <= capacity:
            top = max(top, sum(it[1] for it, m in zip(items, mask) if m))
    return top

assert knapsack([(1, 1), (3, 4), (4, 5), (5, 7)], 7) == 9
rng = random.Random(2)
for _ in range(25):
    items = [(rng.randint(1, 20), rng.randint(1, 30)) for _ in range(rng.randint(1, 10))]
    cap = rng.randint(0, 60)
    assert knapsack(items, cap) == brute(items, cap)
print("OK knapsack")
