"""GUIDs as Entra writes them."""

from __future__ import annotations

import pytest

from lib.model.ids import is_guid


@pytest.mark.parametrize("value", ["9d892f4c-f843-4fdc-9e82-c790f1a0f844", "9D892F4C-F843-4FDC-9E82-C790F1A0F844"])
def test_a_guid_in_either_case_is_one(value):
    assert is_guid(value)


@pytest.mark.parametrize("value", ["", None, "adele@contoso.com", "9d892f4c-f843-4fdc-9e82-c790f1a0f84",
                                   "9d892f4c-f843-4fdc-9e82-c790f1a0f844\n", " 9d892f4c-f843-4fdc-9e82-c790f1a0f844",
                                   "{9d892f4c-f843-4fdc-9e82-c790f1a0f844}"])
def test_anything_else_is_not(value):
    assert not is_guid(value)
