#!/usr/bin/env python3
# bench/make-input.py MB FILE: deterministic JSON lines of realistic shape
# (orders), MB MiB of them; the input of bench.sh and callgrind.sh.
import json, random, sys
mb, path = int(sys.argv[1]), sys.argv[2]
random.seed(1)
cities = ["Guangzhou", "Shanghai", "Beijing", "Shenzhen", "Chengdu", "Singapore"]
lines = []
for i in range(20000):
    lines.append(json.dumps({"order_id": "o-%08d" % i, "user": "u%05d" % random.randrange(90000),
        "city": random.choice(cities), "amount_cents": random.randrange(100, 999999),
        "items": [{"sku": "sku-%04d" % random.randrange(3000), "qty": random.randint(1, 9)}
                  for _ in range(random.randint(1, 4))],
        "note": "".join(random.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(random.randint(0, 60))),
        "paid": random.random() < 0.9}, separators=(",", ":")))
chunk = ("\n".join(lines) + "\n").encode()
with open(path, "wb") as f:
    left = mb << 20
    while left > 0:
        f.write(chunk[:left])
        left -= len(chunk)
