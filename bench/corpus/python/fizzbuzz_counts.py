def fizzbuzz(n):
    out = []
    for i in range(1, n + 1):
        s = ("Fizz" if i % 3 == 0 else "") + ("Buzz" if i % 5 == 0 else "")
        out.append(s or str(i))
    return out

words = fizzbuzz(100000)
assert words[:15] == ["1", "2", "Fizz", "4", "Buzz", "Fizz", "7", "8", "Fizz", "Buzz", "11", "Fizz", "13", "14", "FizzBuzz"]
assert words.count("FizzBuzz") == 100000 // 15
assert words.count("Fizz") == 100000 // 3 - 100000 // 15
assert words.count("Buzz") == 100000 // 5 - 100000 // 15
print("OK fizzbuzz_counts")
