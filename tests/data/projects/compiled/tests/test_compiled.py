import sys
import unittest

import compiled_app


class CompiledTest(unittest.TestCase):
    def test_wheel_matches_interpreter(self) -> None:
        tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
        self.assertTrue(all(t.startswith(tag) for t in compiled_app.built_for()))


if __name__ == "__main__":
    unittest.main()
