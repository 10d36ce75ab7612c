"""``python -m zhitong.cli``: the same as the ``zhitong`` command."""

from __future__ import annotations

from zhitong.cli import app


def main() -> None:
    """Run the ``zhitong`` command."""
    app()


if __name__ == "__main__":
    main()
