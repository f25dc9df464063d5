import unittest

from pages import page_count


class PageCountTest(unittest.TestCase):
    def test_exact_multiple(self):
        self.assertEqual(page_count(10, 5), 2)

    def test_partial_last_page(self):
        self.assertEqual(page_count(11, 5), 3)

    def test_fewer_than_one_page(self):
        self.assertEqual(page_count(3, 5), 1)

    def test_no_items(self):
        self.assertEqual(page_count(0, 5), 0)

    def test_large_total(self):
        self.assertEqual(page_count(1001, 100), 11)


if __name__ == "__main__":
    unittest.main()
