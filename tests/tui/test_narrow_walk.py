"""Nothing cut at 80×24 (issue 12): on every top-level screen the footer shows each of its
keys whole, the last one included, and the fields' placeholders and the switches' labels
are read in full. "F1 Keys" is on the navigation bar of every screen, not in the footers.
"""

from __future__ import annotations

from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from tests.tui import test_navigation
from tests.tui.test_navigation import arrive
from tests.tui.waiting import until
from tui.app import LocalAIApp
from tui.navigation import CHAT, PLACES

# Texts that must be read whole at 80 columns, by screen: placeholders and switch labels.
WHOLE = {
    "speech": ("#speech-file", "#speech-translate", "#speech-vad"),
    "speak": (),  # its Open field shows on ctrl+l only
    "tasks": ("#tasks-file", "#tasks-batch"),
}
# Texts that may wrap at 80 columns but must be read whole: every word on screen.
WRAPPED = {"images": (".image-hint",)}

app = test_navigation.app  # the walk's app: every screen reachable, a quiet gauge


def screen_lines(app: LocalAIApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def footer_keys(app: LocalAIApp) -> list[str]:
    """The footer's keys as it draws them ("^q Quit"), the palette key left out."""
    return [
        f"{key.key_display or app.get_key_display(key._binding)} {key.description}".strip()
        for key in app.screen.query_one(Footer).query(FooterKey)
        if not key.has_class("-command-palette")
    ]


def whole_text(app: LocalAIApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    return str(getattr(widget, "placeholder", "") or widget.label)  # type: ignore[attr-defined]


async def test_every_screen_fits_80_columns(app: LocalAIApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await arrive(pilot, app, CHAT)
        cut: list[str] = []
        for place in PLACES:
            if place.name != CHAT:
                await pilot.press(place.key)
                await arrive(pilot, app, place.name)
            cut += await what_is_cut(pilot, app, place.name)
            if place.name == "speech":
                await pilot.press("alt+s")  # the Speak tab
                await until(pilot, lambda: app.screen.query_one("#speak-text").region, "Speak")
                cut += await what_is_cut(pilot, app, "speak")
        assert not cut, "\n".join(cut)


async def what_is_cut(pilot, app: LocalAIApp, name: str) -> list[str]:  # noqa: ANN001
    await until(pilot, lambda: app.screen.query(FooterKey), f"the footer on {name}")
    await pilot.pause()
    lines = screen_lines(app)
    assert "F1 Keys" in lines[0], f"{name}: no F1 on the bar: {lines[0]!r}"
    keys = footer_keys(app)
    assert keys, f"{name}: an empty footer"
    # F1 is on the bar above: in the footer too it took the last 8 columns.
    cut = [f"{name} footer repeats {key!r}" for key in keys if key.startswith("f1 ")]
    cut += [f"{name} footer: {key!r} in {lines[-1]!r}" for key in keys if key not in lines[-1]]
    screen_text = "\n".join(lines)
    for selector in WHOLE.get(name, ()):
        text = whole_text(app, selector)
        if text not in screen_text:
            cut.append(f"{name} {selector}: {text!r}")
    for selector in WRAPPED.get(name, ()):
        text = str(app.screen.query_one(selector, Static).content)
        missing = [word for word in text.split() if word not in screen_text]
        if missing:
            cut.append(f"{name} {selector}: {missing} of {text!r}")
    return cut
