import unittest

from fizzbuzz import fizzbuzz


class FizzBuzzTest(unittest.TestCase):
    def test_plain_numbers(self):
        self.assertEqual(fizzbuzz(1), "1")
        self.assertEqual(fizzbuzz(7), "7")

    def test_multiple_of_three(self):
        self.assertEqual(fizzbuzz(3), "Fizz")
        self.assertEqual(fizzbuzz(9), "Fizz")

    def test_multiple_of_five(self):
        self.assertEqual(fizzbuzz(5), "Buzz")
        self.assertEqual(fizzbuzz(10), "Buzz")

    def test_multiple_of_fifteen(self):
        self.assertEqual(fizzbuzz(15), "FizzBuzz")

    def test_larger_multiple_of_fifteen(self):
        self.assertEqual(fizzbuzz(45), "FizzBuzz")

    def test_first_fifteen(self):
        expected = "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz".split()
        self.assertEqual([fizzbuzz(i) for i in range(1, 16)], expected)


if __name__ == "__main__":
    unittest.main()
