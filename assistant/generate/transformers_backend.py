"""A local Hugging Face chat model folder (EXAONE, Qwen, Kanana … instruct models copied into a closed network).

The folder is loaded with ``local_files_only=True`` (nothing is fetched), the prompt is built with the
tokenizer's own chat template, and tokens are streamed with ``TextIteratorStreamer`` while
``model.generate`` runs in a worker thread. CPU by default; ``cuda`` when available (``auto``) or asked for.

A folder that does not exist, holds no model, is not a causal language model, or whose tokenizer has no
chat template is a :class:`ConfigError` naming ``ASSISTANT_GENERATOR_MODEL_DIR``. torch and transformers
are imported only when this backend is chosen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError, ConfigError
from assistant.generate.base import GenerationRequest, Generator, register_generator
from assistant.generate.prompts import build_messages

SETTING = "ASSISTANT_GENERATOR_MODEL_DIR"
#: architectures (config.json "architectures") that generate text
_GENERATIVE_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


class TransformersGenerator(Generator):
    name = "transformers"

    def __init__(self, model_dir: str | Path, device: str = "auto",
                 prompts_dir: str | None = None, stream_timeout_s: float = 600.0) -> None:
        self.model_dir = _check_folder(model_dir)
        self.prompts_dir = prompts_dir
        self.stream_timeout_s = stream_timeout_s
        self._lock = threading.Lock()  # one generation at a time per loaded model
        self.tokenizer, self.model, self.device = _load(self.model_dir, device)

    @property
    def identity(self) -> str:
        return f"transformers:{self.model_dir.name}@{self.device}"

    def chat_prompt(self, request: GenerationRequest) -> str:
        """The exact text the model sees (the chat template applied to our messages)."""
        return str(self.tokenizer.apply_chat_template(build_messages(request, self.prompts_dir), tokenize=False,
                                                      add_generation_prompt=True))

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        messages = build_messages(request, self.prompts_dir)
        inputs = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                    return_dict=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        self._check_length(int(inputs["input_ids"].shape[-1]), request.max_tokens)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=self.stream_timeout_s)
        kwargs: dict[str, Any] = {**inputs, "streamer": streamer, "max_new_tokens": max(1, request.max_tokens),
                                  "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id}
        if request.temperature > 0:
            kwargs.update(do_sample=True, temperature=request.temperature)
        else:
            kwargs.update(do_sample=False)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self.model.generate(**kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(exc)
                streamer.end()

        with self._lock:
            worker = threading.Thread(target=run, name="transformers-generate", daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            finally:
                worker.join()
        if failure:
            raise AssistantError(
                f"로컬 모델({self.model_dir})로 생성하는 중 오류가 발생했습니다: {failure[0]}") from failure[0]


    def _check_length(self, prompt_tokens: int, max_new: int) -> None:
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and prompt_tokens + max_new > limit:
            raise AssistantError(f"질문과 출처가 로컬 모델의 최대 길이({limit:,} 토큰)를 넘습니다 "
                                 f"(프롬프트 {prompt_tokens:,} 토큰 + 생성 {max_new:,} 토큰). "
                                 "ASSISTANT_ASK_TOP_K나 ASSISTANT_GENERATOR_MAX_TOKENS를 줄이십시오.")


def _check_folder(model_dir: str | Path) -> Path:
    if not str(model_dir).strip():
        raise ConfigError(f"transformers 생성기를 쓰려면 {SETTING}에 채팅 모델 폴더를 설정하십시오.")
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise ConfigError(f"{SETTING}가 가리키는 모델 폴더가 없습니다: {path}")
    if not (path / "config.json").is_file():
        raise ConfigError(f"{path}는 Hugging Face 모델 폴더가 아닙니다 (config.json 없음). {SETTING}를 확인하십시오.")
    return path


def _load(path: Path, device: str) -> tuple[Any, Any, str]:
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConfigError("transformers 생성기에는 torch와 transformers가 필요합니다: pip install '.[models]'") from exc
    from assistant.runtime import current

    torch.set_num_threads(current().threads)   # generation holds a lock: one request at a time uses every core
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"{path}에서 모델 설정이나 토크나이저를 읽을 수 없습니다: {exc}. {SETTING}를 확인하십시오.") from exc
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(f"{path}의 토크나이저에 채팅 템플릿(chat_template)이 없습니다. 채팅(instruct) 모델 폴더를 "
                          f"{SETTING}에 지정하십시오.")
    archs = list(getattr(config, "architectures", None) or [])
    if archs and not any(a.endswith(_GENERATIVE_SUFFIXES) for a in archs):
        raise ConfigError(f"{path}는 문장 생성(causal LM) 모델이 아닙니다 ({', '.join(archs)}). "
                          f"채팅 모델 폴더를 {SETTING}에 지정하십시오.")
    resolved = _device(device, torch)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, config=config, local_files_only=True,
                                                     dtype=torch.float32 if resolved == "cpu" else "auto")
    except ValueError as exc:
        raise ConfigError(f"{path}는 문장 생성(causal LM) 모델이 아닙니다 ({type(config).__name__}). "
                          f"채팅 모델 폴더를 {SETTING}에 지정하십시오.") from exc
    except OSError as exc:
        raise ConfigError(f"{path}에서 모델 가중치를 읽을 수 없습니다: {exc}") from exc
    model.to(resolved)  # type: ignore[arg-type]  # transformers' stub types .to() for dtypes only
    model.eval()
    return tokenizer, model, resolved


def _device(device: str, torch: Any) -> str:
    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("ASSISTANT_GENERATOR_DEVICE=cuda 이지만 이 컴퓨터에서 CUDA GPU를 쓸 수 없습니다. "
                          "cpu 또는 auto로 설정하십시오.")
    return device


@register_generator("transformers")
def _factory(settings: Any) -> TransformersGenerator:
    return TransformersGenerator(settings.generator_model_dir, device=settings.generator_device,
                                 prompts_dir=settings.prompts_dir or None)
