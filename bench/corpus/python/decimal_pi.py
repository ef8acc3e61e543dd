from decimal import Decimal, getcontext

def pi_machin(digits):
    getcontext().prec = digits + 10
    def arctan_inv(x):
        x = Decimal(x)
        total = term = 1 / x
        x2, n, sign = x * x, 1, 1
        eps = Decimal(10) ** -(digits + 5)
        while abs(term) > eps:
            term /= x2
            n += 2
            sign = -sign
            total += sign * term / n
        return total
    return +(16 * arctan_inv(5) - 4 * arctan_inv(239))

pi = str(pi_machin(1000))
assert pi.startswith("3.14159265358979323846264338327950288419716939937510")
assert pi[1 + 1 + 762 - 1:1 + 1 + 762 + 5] == "999999"
getcontext().prec = 50
assert str(Decimal(2).sqrt())[:20] == "1.414213562373095048"
print("OK decimal_pi")
