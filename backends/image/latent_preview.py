"""A cheap look at the picture while it is being made: latents -> RGB by a linear map.

No VAE decode (that would cost as much as a step): the four latent channels of SD 1.x/2.x
and SDXL map to colours through fixed factors (the ones ComfyUI and A1111 use for their
"approx" previews). Other latent layouts (SD3, FLUX: 16 channels, packed) get no preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

PREVIEWS_PER_IMAGE = 5  # a preview every total/5 steps: a few redraws, no stutter

_SD_FACTORS = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)


def wants_preview(step: int, total: int) -> bool:
    """Every total/PREVIEWS_PER_IMAGE steps, never on the last (the real picture follows)."""
    every = max(1, total // PREVIEWS_PER_IMAGE)
    return step < total and step % every == 0


def latent_preview(latents: Any) -> Image | None:
    """A small RGB picture of the first latent in the batch, or None for other layouts."""
    import torch
    from PIL import Image as PILImage

    if not isinstance(latents, torch.Tensor) or latents.ndim != 4 or latents.shape[1] != 4:
        return None
    with torch.no_grad():
        factors = torch.tensor(_SD_FACTORS, dtype=torch.float32)
        rgb = torch.einsum("chw,cr->hwr", latents[0].float().cpu(), factors)
        pixels = ((rgb + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).numpy()
    return PILImage.fromarray(pixels)  # uint8 HxWx3: RGB
