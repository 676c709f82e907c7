"""Crash, recovery and load runs of the whole system (issue 13, S1): a database killed, a worker
killed, a full disk, two servers on one database, and locust through a PostgreSQL restart. Nothing
here runs in production. `stack` builds Raksa as deployed on a PostgreSQL cluster of its own,
`citizens` writes through it and checks the database against what it acknowledged, `load` is
`make load`; the tests are in `tests/` (`make chaos`)."""
