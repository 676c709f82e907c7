"""Crash and recovery tests of the whole system (issue 13, S1): a database killed, a worker killed, a
full disk, tampering, two servers on one database. Nothing here runs in production; the tests live in
`tests/`, the machinery they share in `raksa.testing` (`pgcluster`, `production`, `webclient`)."""
