"""Exit 0 when the PostgreSQL server at the URL given answers, 1 (with the reason) when not."""

import sys

import psycopg


def main(url: str) -> int:
    try:
        with psycopg.connect(f"{url.rstrip('/')}/postgres", connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        print(f"PostgreSQL check failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
