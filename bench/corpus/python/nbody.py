import math

def energy(bodies):
    e = 0.0
    for i, (p, v, m) in enumerate(bodies):
        e += 0.5 * m * sum(x * x for x in v)
        for q, _, m2 in bodies[i + 1:]:
            e -= m * m2 / math.dist(p, q)
    return e

def advance(bodies, dt, steps):
    for _ in range(steps):
        for i, (p, v, m) in enumerate(bodies):
            for q, w, m2 in bodies[i + 1:]:
                d = [a - b for a, b in zip(p, q)]
                r2 = sum(x * x for x in d)
                mag = dt / (r2 * math.sqrt(r2))
                for k in range(3):
                    v[k] -= d[k] * m2 * mag
                    w[k] += d[k] * m * mag
        for p, v, _ in bodies:
            for k in range(3):
                p[k] += dt * v[k]

bodies = [
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 1000.0),
    ([10.0, 0.0, 0.0], [0.0, 10.0, 0.0], 1.0),
    ([0.0, 20.0, 0.0], [-7.0, 0.0, 0.0], 0.5),
    ([-30.0, 0.0, 0.0], [0.0, -5.7, 0.3], 0.1),
]
e0 = energy(bodies)
momentum0 = [sum(m * v[k] for _, v, m in bodies) for k in range(3)]
advance(bodies, 0.0005, 4000)
assert abs(energy(bodies) - e0) / abs(e0) < 1e-3
momentum = [sum(m * v[k] for _, v, m in bodies) for k in range(3)]
assert all(abs(a - b) < 1e-9 for a, b in zip(momentum, momentum0))
print("OK nbody")
