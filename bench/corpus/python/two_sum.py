import random

def two_sum(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return seen[target - x], i
        seen[x] = i
    return None

def brute(nums, target):
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return True
    return False

rng = random.Random(7)
for _ in range(300):
    nums = [rng.randint(-50, 50) for _ in range(rng.randint(2, 40))]
    target = rng.randint(-60, 60)
    got = two_sum(nums, target)
    assert (got is not None) == brute(nums, target)
    if got:
        i, j = got
        assert i < j and nums[i] + nums[j] == target
print("OK two_sum")
