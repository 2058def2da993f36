"""Every command's output on the example export is byte-identical to the stored one (``tests/golden/``)."""

from __future__ import annotations

import pytest

from tests.golden.cases import CASES
from tests.golden.run import OUTPUTS, run_case


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_unchanged(name: str) -> None:
    expected = (OUTPUTS / f"{name}.json").read_text(encoding="utf-8")
    assert run_case(name) == expected
