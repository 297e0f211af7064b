#!/usr/bin/env python3
"""Example `command` reward for r1kit: any program that speaks JSON lines on stdin/stdout.

r1kit starts this program once per batch and writes one JSON object per completion to stdin:
  {"index": 0, "id": "...", "prompt": "...", "completion": "...", "token_ids": [...],
   "finish_reason": "stop", "columns": {"answer": "42", ...}}
then closes stdin. The program prints exactly one line per completion, in order: a number,
null (does not apply), or {"reward": number-or-null}. Anything on stderr goes to r1kit's log.

This verifier gives 1.0 when the last number inside <answer>...</answer> equals the `answer`
column numerically (after removing thousands separators), 0.0 otherwise, and null when the
example has no `answer` column. Only the Python standard library is used.
"""
import json
import re
import sys
from fractions import Fraction

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")


def last_number(text):
    found = NUMBER.findall(text.replace(",", ""))
    return Fraction(found[-1]) if found else None


def score(request):
    answer = request.get("columns", {}).get("answer")
    if answer is None:
        return None
    tagged = re.findall(r"<answer>(.*?)</answer>", request["completion"], re.S)
    predicted = last_number(tagged[-1]) if tagged else None
    gold = last_number(str(answer).split("####")[-1])
    return 1.0 if predicted is not None and predicted == gold else 0.0


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        print(json.dumps({"reward": score(request)}), flush=True)


if __name__ == "__main__":
    main()
