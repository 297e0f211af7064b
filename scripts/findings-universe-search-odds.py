#!/usr/bin/env python3
"""How often random attempts hit the target in the countdown search universe (configs/r1-zero-search.yaml):
three numbers 1..9 combined in their listed order with + - * (no negative or zero intermediate, products up
to 10 x max(max_target, max_num)), targets 1..30 drawn the same way. Prints the hit rate of one attempt and
of n independent attempts, as docs/findings-universe.md quotes them (3000 problems, 60 attempts each, seed 1)."""
import random
import statistics

MAX_TARGET, MAX_NUM, OPS = 30, 9, "+-*"


def fold(nums, r):
    acc = nums[0]
    for b in nums[1:]:
        valid = [op for op in OPS if not (op == "-" and not acc > b) and not (op == "*" and acc * b > 10 * max(MAX_TARGET, MAX_NUM))]
        if not valid:
            return None
        op = r.choice(valid)
        acc = {"+": acc + b, "-": acc - b, "*": acc * b}[op]
    return acc


r = random.Random(1)
ps = []
for _ in range(3000):
    while True:
        nums = [r.randint(1, MAX_NUM) for _ in range(3)]
        t = fold(nums, r)
        if t is not None and 1 <= t <= MAX_TARGET:
            break
    ps.append(sum(fold(nums, r) == t for _ in range(60)) / 60)
for n in (1, 2, 3, 4, 6):
    print(f"{n} attempt(s): {statistics.mean(1 - (1 - q) ** n for q in ps):.3f}")
