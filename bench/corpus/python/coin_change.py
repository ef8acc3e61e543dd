def min_coins(coins, amount):
    inf = float("inf")
    best = [0] + [inf] * amount
    for a in range(1, amount + 1):
        for c in coins:
            if c <= a and best[a - c] + 1 < best[a]:
                best[a] = best[a - c] + 1
    return -1 if best[amount] == inf else best[amount]

def ways(coins, amount):
    w = [1] + [0] * amount
    for c in coins:
        for a in range(c, amount + 1):
            w[a] += w[a - c]
    return w[amount]

assert min_coins([1, 2, 5], 11) == 3
assert min_coins([2], 3) == -1
assert min_coins([1, 5, 10, 25], 63) == 6
assert ways([1, 2, 5], 5) == 4
assert ways([1, 2, 5, 10, 20, 50, 100, 200], 200) == 73682

def ways_slow(coins, amount, i=0):
    if amount == 0:
        return 1
    if i == len(coins) or amount < 0:
        return 0
    return ways_slow(coins, amount - coins[i], i) + ways_slow(coins, amount, i + 1)

for amount in range(0, 120, 7):
    assert ways([1, 5, 10, 25, 50], amount) == ways_slow([1, 5, 10, 25, 50], amount)
    assert min_coins([1, 5, 10, 25], amount) == amount // 25 + amount % 25 // 10 + amount % 25 % 10 // 5 + amount % 5
print("OK coin_change")
