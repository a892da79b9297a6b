"""Image generation: one protocol (protocol.py), engines for diffusers and stable-diffusion.cpp."""
