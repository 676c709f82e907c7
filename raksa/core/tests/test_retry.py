from django.db import DatabaseError, connection
from django.test import SimpleTestCase, TestCase

from raksa.core.retry import error_kind, retry_delay


class ErrorKindTests(TestCase):
    def test_it_names_the_class_and_the_databases_code_never_the_message(self) -> None:
        # The message names what the statement touched; the code says what went wrong.
        with self.assertRaises(DatabaseError) as caught, connection.cursor() as cursor:
            cursor.execute("SELECT * FROM raksa_no_such_table")
        said = error_kind(caught.exception)
        expected = (
            "ProgrammingError (SQLSTATE 42P01)"
            if connection.vendor == "postgresql"
            else "OperationalError (SQLITE_ERROR)"
        )
        self.assertEqual(said, expected)
        self.assertNotIn("raksa_no_such_table", said)

    def test_it_names_the_class_alone_when_no_code_is_known(self) -> None:
        self.assertEqual(error_kind(DatabaseError("connection refused by db.internal")), "DatabaseError")


class RetryDelayTests(SimpleTestCase):
    def test_it_doubles_with_each_failure_in_a_row_up_to_the_longest(self) -> None:
        delays = [retry_delay(failures, first=1.0, longest=10.0) for failures in range(1, 7)]
        self.assertEqual(delays, [1.0, 2.0, 4.0, 8.0, 10.0, 10.0])
        self.assertEqual(retry_delay(10_000, first=60.0, longest=900.0), 900.0)
