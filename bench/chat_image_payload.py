"""What one big picture in a chat costs per turn: the data URL sent as it is vs scaled.

Writes a photo-like PNG (gradient plus grain, numpy-made; 3000x3000 is ~15 MB) in a temp
dir, then builds the `image_url` data URL the OpenAI-compatible engine and llama.cpp send,
once with the picture as it is (`image_max_side = 0`) and once scaled to the default
(1536 px), and prints both sizes, their ratio, and the time to build each on the first
turn and on a later turn (scaled pictures are cached per file).

    python bench/chat_image_payload.py [--side 3000] [--max-side 1536]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=3000, help="picture side in px")
    parser.add_argument("--max-side", type=int, default=1536, help="longest side sent")
    parser.add_argument("--grain", type=int, default=250, help="noise per pixel (0-255)")
    args = parser.parse_args()

    from backends.base import ImageAttachment
    from backends.chat.image_fit import data_url
    from tests.fixtures.images import write_gradient

    with tempfile.TemporaryDirectory(prefix="bench-image-") as folder:
        photo = write_gradient(Path(folder) / "photo.png", args.side, args.side, grain=args.grain)
        print(f"picture: {args.side}x{args.side} PNG, {photo.stat().st_size / 1e6:.1f} MB")
        rows = []
        for label, side in (("as it is", None), (f"scaled to {args.max_side}", args.max_side)):
            image = ImageAttachment(path=str(photo), max_side=side)
            timings = []
            for _turn in range(2):
                started = time.perf_counter()
                url = data_url(image)
                timings.append(time.perf_counter() - started)
            rows.append((label, len(url), timings))
            print(
                f"{label:>16}: data URL {len(url) / 1e6:7.2f} MB · first turn "
                f"{timings[0] * 1000:6.0f} ms · later turn {timings[1] * 1000:6.0f} ms"
            )
        ratio = rows[1][1] / rows[0][1]
        print(f"scaled / as it is: {ratio:.3f} of the bytes on every turn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
