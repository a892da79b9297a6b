"""The GGUF header reader agrees with the reference `gguf` package and names what is wrong."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from backends.errors import CorruptModel, UnsupportedModel
from backends.models.gguf_file import FILE_TYPES, GGML_TYPE_SIZES, format_size, read_gguf

gguf = pytest.importorskip("gguf")


def test_tensor_type_sizes_match_the_reference() -> None:
    reference = {int(t): tuple(size) for t, size in gguf.constants.GGML_QUANT_SIZES.items()}
    assert GGML_TYPE_SIZES == reference


def test_file_type_names_match_the_reference() -> None:
    for file_type in gguf.LlamaFileType:
        if int(file_type) in FILE_TYPES:
            name = file_type.name.removeprefix("MOSTLY_").removeprefix("ALL_")
            assert FILE_TYPES[int(file_type)] == name


def test_reads_what_the_engine_needs(tiny_gguf_path: Path, tiny_gguf_base_path: Path) -> None:
    info = read_gguf(tiny_gguf_path)
    reference = gguf.GGUFReader(tiny_gguf_path)

    assert info.architecture == "llama"
    assert info.has_chat_template and "<|im_start|>" in (info.chat_template or "")
    assert info.context_length == 512
    assert info.block_count == 2
    assert info.file_type == "F32"
    assert info.tensor_count == len(reference.tensors)
    assert info.data_end == tiny_gguf_path.stat().st_size
    assert not read_gguf(tiny_gguf_base_path).has_chat_template


def test_unknown_version_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "future.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 99, 0, 0))
    with pytest.raises(UnsupportedModel, match="version 99"):
        read_gguf(path)


def test_header_cut_short_is_truncated(tiny_gguf_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(tiny_gguf_path.read_bytes()[:2000])
    with pytest.raises(CorruptModel, match="truncated"):
        read_gguf(path)


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="folder"):
        read_gguf(tmp_path)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (540_000, "540 KB"),
        (120_400_000, "120 MB"),
        (253_000_000, "253 MB"),
        (1_230_000_000, "1.2 GB"),
    ],
)
def test_sizes_read_like_a_download_page(size: int, text: str) -> None:
    assert format_size(size) == text


def test_gguf_problem_is_the_cheap_check_the_picker_marks_files_with(
    tiny_gguf_path: Path, tmp_path: Path
) -> None:
    from backends.models.gguf_file import gguf_problem

    assert gguf_problem(tiny_gguf_path) is None
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf_path.read_bytes()[:300_000])
    assert "truncated" in (gguf_problem(cut) or "")
    assert "does not exist" in (gguf_problem(tmp_path / "gone.gguf") or "")
