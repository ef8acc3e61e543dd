import math
import random

def estimate_pi(samples, seed):
    rng = random.Random(seed)
    inside = 0
    for _ in range(samples):
        x, y = rng.random(), rng.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4 * inside / samples

estimates = [estimate_pi(40000, seed) for seed in range(5)]
assert all(abs(e - math.pi) < 0.05 for e in estimates)
assert abs(sum(estimates) / len(estimates) - math.pi) < 0.02
assert estimate_pi(1000, 1) == estimate_pi(1000, 1)
print("OK monte_carlo_pi")
