"""Samplers by the names A1111 and ComfyUI users know, and what each means to an engine.

The Images screen offers these names ("Euler a", "DPM++ 2M Karras", …), the PNG `parameters`
chunk writes them, and a PNG from another tool reads back through them. A diffusers name is a
scheduler class plus config overrides (Karras sigmas, the SDE variant); a stable-diffusion.cpp
name is its `sample_method`.
"""

from __future__ import annotations

from typing import Any

# A1111 name -> (diffusers scheduler class, config overrides), in the order the list shows.
# The table in diffusers' docs ("A1111/k-diffusion -> diffusers") is the source.
DIFFUSERS_SAMPLERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "Euler": ("EulerDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "DPM++ 2M SDE": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++"}),
    "DPM++ 2M SDE Karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    "DPM++ 2S": ("DPMSolverSinglestepScheduler", {}),
    "DPM2": ("KDPM2DiscreteScheduler", {}),
    "DPM2 Karras": ("KDPM2DiscreteScheduler", {"use_karras_sigmas": True}),
    "DPM2 a": ("KDPM2AncestralDiscreteScheduler", {}),
    "DPM2 a Karras": ("KDPM2AncestralDiscreteScheduler", {"use_karras_sigmas": True}),
    "Heun": ("HeunDiscreteScheduler", {}),
    "LMS": ("LMSDiscreteScheduler", {}),
    "LMS Karras": ("LMSDiscreteScheduler", {"use_karras_sigmas": True}),
    "DDIM": ("DDIMScheduler", {}),
    "PLMS": ("PNDMScheduler", {}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "DEIS": ("DEISMultistepScheduler", {}),
    "LCM": ("LCMScheduler", {}),
    "DDPM": ("DDPMScheduler", {}),
}

# Fewest steps a sampler runs with (PNDM's warm-up needs 4: fewer fails with a shape error).
MIN_STEPS: dict[str, int] = {"PLMS": 4}

# A1111 name -> stable-diffusion.cpp `sample_method`.
SDCPP_SAMPLERS: dict[str, str] = {
    "Euler a": "euler_a",
    "Euler": "euler",
    "Heun": "heun",
    "DPM2": "dpm2",
    "DPM++ 2S a": "dpm++2s_a",
    "DPM++ 2M": "dpm++2m",
    "DPM++ 2M v2": "dpm++2mv2",
    "LCM": "lcm",
}

# ComfyUI's KSampler names (its scheduler, e.g. karras, is a separate field) -> A1111's.
COMFYUI_SAMPLERS: dict[str, str] = {
    "euler_ancestral": "Euler a",
    "dpm_2": "DPM2",
    "dpm_2_ancestral": "DPM2 a",
    "lms": "LMS",
    "dpmpp_2s_ancestral": "DPM++ 2S a",
    "dpmpp_sde": "DPM++ SDE",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE",
    "ddim": "DDIM",
    "uni_pc": "UniPC",
}

# Other spellings (diffusers class names, stable-diffusion.cpp methods, ComfyUI names) -> the
# A1111 name, for the PNG's `Sampler:` and for matching a gallery entry to the loaded model.
_ALIASES: dict[str, str] = {
    **COMFYUI_SAMPLERS,
    **{method: name for name, method in SDCPP_SAMPLERS.items()},
    **{cls: name for name, (cls, extra) in reversed(DIFFUSERS_SAMPLERS.items()) if not extra},
    "FlowMatchEulerDiscreteScheduler": "Euler",
}


def a1111_sampler(name: str) -> str:
    """The A1111 name of a sampler given by that name, a diffusers scheduler class or a
    stable-diffusion.cpp method; an unknown name comes back as it is."""
    return (
        name if name in DIFFUSERS_SAMPLERS or name in SDCPP_SAMPLERS else _ALIASES.get(name, name)
    )


def diffusers_scheduler_name(scheduler: Any) -> str:
    """The A1111 name of a live diffusers scheduler (its Karras / SDE settings included)."""
    cls = type(scheduler).__name__
    config = getattr(scheduler, "config", {}) or {}
    best = a1111_sampler(cls)
    for name, (wanted, extra) in DIFFUSERS_SAMPLERS.items():
        if wanted == cls and extra and all(config.get(k) == v for k, v in extra.items()):
            best = name  # the most specific match wins (the table lists them after the plain one)
    return best
