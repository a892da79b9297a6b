"""What goes to a model is scaled to the longest side it takes (the file stays as it is), and a
decompression bomb is refused when it is attached, before anything decodes it."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from backends.base import DEFAULT_IMAGE_MAX_SIDE, ImageAttachment
from backends.chat.image_fit import ImageTooLarge, data_url, fitted_bytes, pil_image
from backends.store.attachments import AttachmentStore, check_image_file
from tests.fixtures.images import write_gradient, write_png, write_png_header

pytest.importorskip("PIL")


def _size_of(encoded: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(encoded)) as opened:
        return opened.size


def test_a_big_photo_goes_out_scaled_to_the_default_longest_side_as_jpeg(tmp_path: Path) -> None:
    photo = write_gradient(tmp_path / "big.png", 2400, 1600, grain=32)
    before = photo.read_bytes()

    data, mime = fitted_bytes(ImageAttachment(path=str(photo)))

    assert DEFAULT_IMAGE_MAX_SIDE == 1536
    assert mime == "image/jpeg" and _size_of(data) == (1536, 1024)  # aspect kept
    assert len(data) < len(before) / 4
    assert photo.read_bytes() == before  # the stored picture keeps its size
    url = data_url(ImageAttachment(path=str(photo)))
    assert url.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == data


def test_a_small_picture_goes_out_byte_for_byte(tmp_path: Path) -> None:
    small = write_png(tmp_path / "small.png", size=40)
    assert fitted_bytes(ImageAttachment(path=str(small))) == (small.read_bytes(), "image/png")
    unscaled = ImageAttachment(
        path=str(write_gradient(tmp_path / "b.png", 900, 300)), max_side=None
    )
    assert fitted_bytes(unscaled)[0] == Path(unscaled.path or "").read_bytes()


def test_transparency_stays_png_and_the_setting_sets_the_side(tmp_path: Path) -> None:
    logo = write_gradient(tmp_path / "logo.png", 400, 100, mode="RGBA")
    data, mime = fitted_bytes(ImageAttachment(path=str(logo), max_side=64))
    assert mime == "image/png" and _size_of(data) == (64, 16)
    in_memory = ImageAttachment(data=logo.read_bytes(), max_side=64)
    assert _size_of(fitted_bytes(in_memory)[0]) == (64, 16)


def test_processors_get_the_scaled_picture(tmp_path: Path) -> None:
    photo = write_gradient(tmp_path / "photo.jpg", 2000, 1000)
    picture = pil_image(ImageAttachment(path=str(photo), max_side=500))
    assert picture.size == (500, 250) and picture.mode == "RGB"


def test_a_decompression_bomb_is_refused_at_attach_time(tmp_path: Path) -> None:
    bomb = write_png_header(tmp_path / "huge.png", 16000, 16000)
    assert bomb.stat().st_size < 200  # small on disk, 768 MB once decoded
    with pytest.raises(ImageTooLarge) as caught:
        check_image_file(bomb)
    assert "16000×16000 pixels (256 megapixels)" in caught.value.message
    assert "up to 89 megapixels" in caught.value.message and "Scale it down" in caught.value.message
    with pytest.raises(ImageTooLarge):
        AttachmentStore(tmp_path / "attachments").add(bomb)
    assert not (tmp_path / "attachments").exists()  # nothing stored


def test_just_under_the_limit_is_accepted(tmp_path: Path) -> None:
    fine = write_png_header(tmp_path / "wide.png", 9000, 9000)  # 81 megapixels
    assert check_image_file(fine) == "image/png"
