import datetime

def zeller(y, m, d):
    if m < 3:
        m += 12
        y -= 1
    k, j = y % 100, y // 100
    h = (d + 13 * (m + 1) // 5 + k + k // 4 + j // 4 + 5 * j) % 7
    return (h + 5) % 7

def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)

day = datetime.date(1900, 1, 1)
end = datetime.date(2100, 12, 31)
count = 0
while day <= end:
    assert zeller(day.year, day.month, day.day) == day.weekday()
    day += datetime.timedelta(days=3)
    count += 1
assert count > 24000
assert all(is_leap(y) == (datetime.date(y, 12, 31).timetuple().tm_yday == 366) for y in range(1600, 2400))
sundays = sum(1 for y in range(1901, 2001) for m in range(1, 13) if zeller(y, m, 1) == 6)
assert sundays == 171
print("OK day_of_week")
