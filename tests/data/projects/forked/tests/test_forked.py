import sys
import unittest

import forky


class ForkedTest(unittest.TestCase):
    def test_fork(self) -> None:
        major = int(forky.__version__.split(".")[0])
        self.assertEqual(major, 2 if sys.version_info >= (3, 12) else 1)


if __name__ == "__main__":
    unittest.main()
