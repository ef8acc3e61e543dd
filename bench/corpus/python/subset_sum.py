import itertools
import random

def subset_sum(nums, target):
    reachable = 1
    for x in nums:
        reachable |= reachable << x
    return bool(reachable >> target & 1)

def brute(nums, target):
    return any(sum(c) == target for r in range(len(nums) + 1) for c in itertools.combinations(nums, r))

rng = random.Random(23)
for _ in range(60):
    nums = [rng.randint(1, 40) for _ in range(rng.randint(0, 12))]
    t = rng.randint(0, 200)
    assert subset_sum(nums, t) == brute(nums, t)
assert subset_sum(list(range(1, 200)), 19900) and not subset_sum(list(range(1, 200)), 19901)
print("OK subset_sum")
