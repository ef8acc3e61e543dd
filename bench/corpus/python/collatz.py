def chain_length(n, cache={1: 1}):
    path = []
    while n not in cache:
        path.append(n)
        n = n // 2 if n % 2 == 0 else 3 * n + 1
    length = cache[n]
    for m in reversed(path):
        length += 1
        cache[m] = length
    return length

def plain(n):
    steps = 1
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps

assert chain_length(13) == 10
assert all(chain_length(n) == plain(n) for n in range(1, 3000))
best = max(range(1, 100000), key=chain_length)
assert best == 77031 and chain_length(best) == 351
print("OK collatz")
