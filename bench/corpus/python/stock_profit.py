import random

def max_profit_one(prices):
    low, best = float("inf"), 0
    for p in prices:
        low = min(low, p)
        best = max(best, p - low)
    return best

def max_profit_many(prices):
    return sum(max(0, b - a) for a, b in zip(prices, prices[1:]))

def max_profit_k(prices, k):
    buy = [float("-inf")] * (k + 1)
    sell = [0] * (k + 1)
    for p in prices:
        for j in range(1, k + 1):
            buy[j] = max(buy[j], sell[j - 1] - p)
            sell[j] = max(sell[j], buy[j] + p)
    return sell[k]

assert max_profit_one([7, 1, 5, 3, 6, 4]) == 5
assert max_profit_many([7, 1, 5, 3, 6, 4]) == 7
assert max_profit_k([3, 3, 5, 0, 0, 3, 1, 4], 2) == 6
rng = random.Random(46)
for _ in range(200):
    prices = [rng.randint(1, 100) for _ in range(rng.randint(1, 25))]
    assert max_profit_one(prices) == max([b - a for i, a in enumerate(prices) for b in prices[i:]])
    assert max_profit_k(prices, 1) == max_profit_one(prices)
    assert max_profit_k(prices, len(prices)) == max_profit_many(prices)
print("OK stock_profit")
