"""A separate process that stores N decisions (used by test_concurrency.py).

Usage: python writer.py DATABASE_URL COUNT LABEL
"""

from __future__ import annotations

import sys

from servicekit import make_case, open_test_store

from adjudicator import Adjudicator
from adjudicator.db.actor import Actor
from adjudicator.decisions.service import create_decision


def main() -> None:
    url, count, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = open_test_store(url)
    adjudicator = Adjudicator()
    actor = Actor(key_id=f"k-{label}", name=label, role="system")
    sys.stdin.readline()  # start together
    for i in range(count):
        create_decision(
            store, adjudicator, make_case(), actor=actor, idempotency_key=f"{label}-{i}"
        )
    store.close()


if __name__ == "__main__":
    main()
