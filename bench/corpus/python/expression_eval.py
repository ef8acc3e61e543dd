import random

PREC = {"+": 1, "-": 1, "*": 2, "/": 2}

def tokenize(s):
    tokens, i = [], 0
    while i < len(s):
        if s[i].isdigit():
            j = i
            while j < len(s) and s[j].isdigit():
                j += 1
            tokens.append(int(s[i:j])); i = j
        elif s[i] in "+-*/()":
            tokens.append(s[i]); i += 1
        else:
            i += 1
    return tokens

def evaluate(s):
    out, ops = [], []
    def apply():
        op = ops.pop(); b = out.pop(); a = out.pop()
        out.append(a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a // b)
    for t in tokenize(s):
        if isinstance(t, int):
            out.append(t)
        elif t == "(":
            ops.append(t)
        elif t == ")":
            while ops[-1] != "(":
                apply()
            ops.pop()
        else:
            while ops and ops[-1] != "(" and PREC[ops[-1]] >= PREC[t]:
                apply()
            ops.append(t)
    while ops:
        apply()
    return out[0]

assert evaluate("3 + 4 * 2") == 11 and evaluate("(1 + 2) * (3 + 4)") == 21 and evaluate("10 - 2 - 3") == 5
rng = random.Random(30)
def gen(d):
    if d == 0 or rng.random() < 0.3:
        return str(rng.randint(0, 50))
    return f"({gen(d - 1)} {rng.choice('+-*')} {gen(d - 1)})"
for _ in range(800):
    e = gen(4)
    assert evaluate(e) == eval(e), e
print("OK expression_eval")
