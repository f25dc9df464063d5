import unittest

from duration import parse_duration


class ParseDuration(unittest.TestCase):
    def test_seconds(self):
        self.assertEqual(parse_duration("90s"), 90)

    def test_minutes(self):
        self.assertEqual(parse_duration("5m"), 300)

    def test_hours_and_minutes(self):
        self.assertEqual(parse_duration("1h30m"), 5400)

    def test_days(self):
        self.assertEqual(parse_duration("2d"), 172800)

    def test_all_units_in_order(self):
        self.assertEqual(parse_duration("1d2h3m4s"), 93784)

    def test_spaces_and_case_are_ignored(self):
        self.assertEqual(parse_duration(" 1H 30M "), 5400)

    def test_bare_number_is_seconds(self):
        self.assertEqual(parse_duration("42"), 42)

    def test_empty_is_an_error(self):
        with self.assertRaises(ValueError):
            parse_duration("")

    def test_unknown_unit_is_an_error(self):
        with self.assertRaises(ValueError):
            parse_duration("3w")

    def test_repeated_unit_is_an_error(self):
        with self.assertRaises(ValueError):
            parse_duration("1m1m")

    def test_units_out_of_order_is_an_error(self):
        with self.assertRaises(ValueError):
            parse_duration("30m1h")


if __name__ == "__main__":
    unittest.main()
