"""`generate_image`'s arguments are checked before anything is made, and the model hears
where the picture went, its size and its seed."""

from __future__ import annotations

import pytest

from backends.tools.builtin import ToolRefused
from backends.tools.image_tool import PictureAsked, PictureMade, image_tool, read_picture_call


def test_the_call_is_read_with_its_options() -> None:
    asked = read_picture_call({"prompt": " a  red square ", "width": 64, "steps": "3", "seed": 7})
    assert asked == PictureAsked("a red square", width=64, height=None, steps=3, seed=7)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({}, "no `prompt`"),
        ({"prompt": "  "}, "no `prompt`"),
        ({"prompt": "x", "steps": 0}, "`steps` = 0 is out of range"),
        ({"prompt": "x", "width": "wide"}, "`width` must be a whole number"),
        ({"prompt": "x", "seed": True}, "`seed` must be a whole number"),
    ],
)
def test_a_bad_call_is_refused_with_the_reason(arguments: dict[str, object], says: str) -> None:
    with pytest.raises(ToolRefused, match=says):
        read_picture_call(arguments)  # type: ignore[arg-type]


def test_the_result_names_the_file_size_and_seed() -> None:
    made: list[PictureAsked] = []

    def make(asked: PictureAsked) -> PictureMade:
        made.append(asked)
        return PictureMade("/out/1.png", 64, 48, 42, 3, "tiny-sd", gallery_id=5)

    spec, run = image_tool(make)
    assert spec.name == "generate_image" and spec.parameters["required"] == ["prompt"]
    text = run({"prompt": "a cat"})
    assert made == [PictureAsked("a cat")]
    assert "/out/1.png" in text and "64x48 px" in text and "seed 42" in text
    assert "gallery #5" in text
