"""``python -m zhitong.bench``: run the benchmarks and print the table."""

from __future__ import annotations

from zhitong.bench import main

if __name__ == "__main__":
    main()
