"""scoredsl.output: atomic writes, refusing to write over an input, CSV neutralisation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scoredsl.output import OutputError, atomic_output, atomic_path, neutralise_cell


def test_written_only_when_the_block_completes(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    with atomic_output(target) as handle:
        handle.write("new\n")
        assert target.read_text(encoding="utf-8") == "old\n"
    assert target.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_block_leaves_the_target_and_no_temporary(
    tmp_path: Path, exc: type[BaseException]
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(exc), atomic_output(target) as handle:
        handle.write("half")
        raise exc
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_new_file_is_not_left_when_interrupted(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "out.parquet") as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".parquet"
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_new_file_gets_the_usual_permissions_and_a_replaced_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "new.txt") as handle:
            handle.write("x")
        assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.txt"
        kept.write_text("", encoding="utf-8")
        kept.chmod(0o600)
        with atomic_output(kept) as handle:
            handle.write("x")
        assert kept.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


def test_the_input_itself_is_refused_by_any_name(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("id\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    for name in ("data.csv", "link.csv", "hard.csv", "./sub/../data.csv"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(OutputError) as caught, atomic_output(tmp_path / name, [data]):
            pass  # pragma: no cover
        assert str(caught.value) == (
            f"-o {tmp_path / name} is the input file {data}: refusing to write over it; "
            "choose another output file"
        )
    assert data.read_text(encoding="utf-8") == "id\n"


def test_a_directory_or_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(OutputError, match=r"is a directory; give a file name$"),
        atomic_output(tmp_path),
    ):
        pass  # pragma: no cover
    with (
        pytest.raises(OutputError, match=r"out.csv: there is no directory .*/nowhere$"),
        atomic_output(tmp_path / "nowhere" / "out.csv"),
    ):
        pass  # pragma: no cover


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("", ""),
        ("五星级", "五星级"),
    ],
)
def test_formula_cells_are_neutralised(cell: str, written: str) -> None:
    assert neutralise_cell(cell) == written
