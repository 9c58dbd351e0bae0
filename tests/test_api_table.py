"""The API table against the HPy 0.9.0 universal ABI (../shared/hpy-abi-0.9)."""
import csv
import os
import re

import pytest

from hpy_build.api import table as api

ABI_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "hpy-abi-0.9")


def _rows(name):
    path = os.path.join(ABI_DIR, name)
    if not os.path.exists(path):
        pytest.skip("the ABI tables are not at %s" % os.path.abspath(ABI_DIR))
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _norm(text):
    return re.sub(r"\s*\*\s*", " * ", text).strip()


def test_every_member_in_abi_order():
    rows = _rows("ctx_members.tsv")
    assert [m.id for m in api.MEMBERS] == list(range(263))
    assert len(rows) == len(api.MEMBERS) == 263
    for row, member in zip(rows, api.MEMBERS):
        assert int(row["id"]) == member.id
        assert row["kind"] == ("handle" if member.is_handle else "function")
        assert row["public_name"] == member.public_name
        assert row["ctx_member"] == member.ctx_name


def test_function_signatures():
    for row in _rows("ctx_members.tsv"):
        member = api.MEMBERS[int(row["id"])]
        if member.is_handle:
            continue
        assert _norm(row["ctx_return"]) == _norm(member.ctx_return_type), member.public_name
        assert _norm(row["public_return"]) == _norm(member.return_type), member.public_name
        assert _norm(row["parameters"]) == _norm(", ".join(p.decl() for p in member.params)), \
            member.public_name


def test_enum_values():
    ours = {name: value for members in api.ENUMS.values() for name, value in members}
    ours.update({name: value for name, value, _ in api.SLOTS})
    rows = _rows("enums.tsv")
    assert {row["name"]: int(row["value"]) for row in rows} == ours
    for row in rows:
        if row["enum"] == "HPySlot_Slot":
            sig = [s for name, _, s in api.SLOTS if name == row["name"]][0]
            assert row["slot_signature"] == "HPyFunc_" + sig


def test_every_mapping_is_one_of_the_three_kinds():
    for func in api.FUNCTIONS:
        kinds = [k for k in ("call", "body", "impl") if getattr(func, k)]
        assert len(kinds) == 1, func.public_name


def test_function_rejects_an_unmapped_declaration():
    with pytest.raises(ValueError, match="exactly one of"):
        api.function(999, "HPy HPy_Foo(HPyContext *ctx, HPy h)")
    with pytest.raises(ValueError, match="HPyContext"):
        api.function(999, "HPy HPy_Foo(HPy h)", impl=True)
