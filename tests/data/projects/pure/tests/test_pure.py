import unittest

import pure_app


class PureTest(unittest.TestCase):
    def test_answer(self) -> None:
        self.assertEqual(pure_app.answer(), 42)


if __name__ == "__main__":
    unittest.main()
