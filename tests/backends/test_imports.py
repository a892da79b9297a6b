"""Importing the backends must stay cheap and UI-free: heavy runtimes load only when used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "backends",
    "backends.registry",
    "backends.models.gguf_file",
    "backends.chat.transcript",
    "backends.chat.lifecycle",
    "backends.chat.transformers",
    "backends.chat.transformers_placement",
    "backends.chat.transformers_streamer",
    "backends.chat.transformers_prompt",
    "backends.chat.llama_cpp",
    "backends.chat.llama_repack",
    "backends.chat.llama_native",
    "backends.chat.llama_prompt",
    "backends.host.client",
    "backends.host.chat_proxy",
    "backends.host.hosted_engine",
    "backends.host.process",
    "backends.host.speech_proxy",
    "backends.host.child",
    "backends.device",
    "backends.image.protocol",
    "backends.image.diffusers_engine",
    "backends.image.diffusers_pipeline",
    "backends.image.sdcpp_engine",
    "backends.image.hosted",
    "backends.image.memory",
    "backends.image.latent_preview",
    "backends.image.png_metadata",
    "backends.image.jobs",
    "backends.image.session",
    "backends.image.catalog",
    "backends.store.gallery",
    "backends.speech.protocol",
    "backends.speech.faster_whisper_engine",
    "backends.speech.microphone",
    "backends.speech.subtitles",
    "backends.speech.catalog",
    "backends.speech.manager",
    "backends.chat.reasoning",
    "backends.chat.tool_call_text",
    "backends.chat.template_messages",
    "backends.tools.builtin",
    "backends.tools.toolbox",
    "backends.tools.tool_loop",
    "backends.tools.permissions",
    "backends.tools.mcp_config",
    "backends.tools.mcp_servers",
    "backends.tasks.protocol",
    "backends.tasks.transformers_tasks",
    "backends.tasks.task_detection",
    "backends.tasks.task_inputs",
    "backends.tasks.pipeline_outputs",
    "backends.tasks.text_budget",
    "backends.tasks.wav_audio",
    "backends.host.task_proxy",
    "backends.embeddings.transformers_embeddings",
]
FORBIDDEN = [
    "textual",
    "rich",
    "tui",
    "torch",
    "transformers",
    "peft",
    "llama_cpp",
    "numpy",
    "diffusers",
    "stable_diffusion_cpp",
    "faster_whisper",
    "ctranslate2",
    "sounddevice",
    "mcp",  # ~3.5 s: imported in the MCP thread when a server is configured
]


def test_backend_modules_import_no_ui_and_no_heavy_runtime() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# The HTTP clients of servers. httpx 0.29 imports its command line (click, pygments, rich) when
# the package is imported, so rich is allowed here and only here; nothing of ours imports it.
HTTP_MODULES = [
    "backends.image.a1111_engine",
    "backends.image.comfyui_engine",
    "backends.image.openai_images_engine",
    "backends.speech.openai_transcription_engine",
    "backends.embeddings.openai_embeddings",
    "backends.remote.probe",
    "backends.remote.prober",
    "backends.remote.box_state",
    "backends.remote.websocket",
]


def test_server_clients_import_no_ui_and_no_heavy_runtime() -> None:
    forbidden = [m for m in FORBIDDEN if m != "rich"]
    script = (
        "import importlib, json, sys\n"
        f"for name in {HTTP_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {forbidden!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
