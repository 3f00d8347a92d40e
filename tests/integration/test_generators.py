"""Model backends on real code paths: a tiny local chat model built here, and an OpenAI-compatible server
on loopback that speaks the real wire protocol (SSE chat.completion.chunk events, [DONE])."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError
from assistant.generate.base import GenerationRequest, Passage
from assistant.generate.factory import make_generator

KOREAN_LINES = [
    "민원의 처리기간은 접수한 날부터 계산합니다.",
    "공휴일과 토요일은 처리기간에 산입하지 아니한다.",
    "정보공개 청구를 받으면 10일 이내에 공개 여부를 결정하여야 한다.",
    "행정청은 처분을 하기 전에 당사자에게 의견제출의 기회를 주어야 한다.",
    "출처 질문 답변 법률 제19조 제11조 민원인 공무원 회답 이유",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
PASSAGE = Passage(n=1, doc_id="d1", title="민원 처리에 관한 법률", source="/samples/laws/민원.md", location="제19조",
                  text="제19조(처리기간의 계산) ① 민원의 처리기간을 5일 이하로 정한 경우에는 \"시간\" 단위로 계산한다.",
                  article="제19조")


def _request(**kw) -> GenerationRequest:
    base = dict(task="answer", prompt="answer", variables={"question": "민원 처리기간은 어떻게 계산하나요?"},
                passages=[PASSAGE], max_tokens=8)
    base.update(kw)
    return GenerationRequest(**base)


# ---------------------------------------------------------------- transformers


def build_tiny_chat_model(folder: Path, chat_template: str | None = CHAT_TEMPLATE) -> Path:
    """A randomly initialised 2-layer Llama and a WordPiece tokenizer trained here on Korean lines."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(KOREAN_LINES * 4, trainers.WordPieceTrainer(vocab_size=400, special_tokens=specials))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>")
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=16384,
                         pad_token_id=fast.pad_token_id, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat"))


def test_transformers_loads_applies_chat_template_and_streams(tiny_model):
    settings = Settings(generator="transformers", generator_model_dir=str(tiny_model), generator_device="cpu")
    gen = make_generator(settings)
    assert gen.identity.startswith("transformers:")
    prompt = gen.chat_prompt(_request())
    # the template wrapped our system prompt and the rendered task prompt, with the source block inside
    assert prompt.startswith("<|system|>\n") and prompt.rstrip().endswith("<|assistant|>")
    assert "지시" in prompt and "<<<출처 [1] 「민원 처리에 관한 법률」 제19조>>>" in prompt
    assert "질문: 민원 처리기간은 어떻게 계산하나요?" in prompt
    pieces = list(gen.stream(_request(max_tokens=6)))
    assert pieces, "the tiny model streamed nothing"
    text = "".join(pieces)
    vocab_words = set(gen.tokenizer.get_vocab())
    assert any(w.strip("#") and w.strip("#") in text for w in vocab_words)
    assert gen.generate(_request(max_tokens=6)) == text  # greedy decoding is deterministic


def test_transformers_missing_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="ASSISTANT_GENERATOR_MODEL_DIR"):
        make_generator(Settings(generator="transformers", generator_model_dir=str(tmp_path / "없는폴더")))
    with pytest.raises(ConfigError, match="ASSISTANT_GENERATOR_MODEL_DIR"):
        make_generator(Settings(generator="transformers", generator_model_dir=""))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="config.json"):
        make_generator(Settings(generator="transformers", generator_model_dir=str(tmp_path / "empty")))


def test_transformers_folder_without_chat_template_is_rejected(tmp_path):
    pytest.importorskip("transformers")
    folder = build_tiny_chat_model(tmp_path / "no-template", chat_template=None)
    with pytest.raises(ConfigError, match="채팅 템플릿"):
        make_generator(Settings(generator="transformers", generator_model_dir=str(folder)))


def test_transformers_folder_that_is_not_a_causal_lm_is_rejected(tmp_path, tiny_model):
    from transformers import BertConfig, BertModel

    folder = tmp_path / "encoder"
    BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64)).save_pretrained(folder)
    for f in tiny_model.iterdir():  # a tokenizer with a chat template, but an encoder-only model
        if f.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            (folder / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ConfigError, match="causal LM"):
        make_generator(Settings(generator="transformers", generator_model_dir=str(folder)))


# ---------------------------------------------------------------- OpenAI-compatible server on loopback


class FakeChatServer(ThreadingHTTPServer):
    """Speaks /v1/chat/completions (JSON and SSE) and /v1/models like vLLM or llama.cpp server do."""

    daemon_threads = True

    def __init__(self, fail_first: int = 0, fail_status: int = 503, api_key: str = "") -> None:
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.requests: list[dict] = []
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.api_key = api_key
        self.attempts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def reply_for(self, body: dict) -> list[str]:
        user = body["messages"][-1]["content"]
        question = next((ln[4:].strip() for ln in user.splitlines() if ln.startswith("질문:")), user[:20])
        return ["요청하신 ", f"'{question}'에 ", "대한 답변입니다. ", "[1]"]


class _ChatHandler(BaseHTTPRequestHandler):
    server: FakeChatServer

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _json(self, status: int, data: dict) -> None:
        raw = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": "tiny-korean-chat", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        srv.attempts += 1
        if srv.api_key and self.headers.get("Authorization") != f"Bearer {srv.api_key}":
            return self._json(401, {"error": {"message": "invalid api key"}})
        if srv.attempts <= srv.fail_first:
            return self._json(srv.fail_status, {"error": {"message": "model is loading"}})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": "not found"}})
        srv.requests.append(body)
        pieces = srv.reply_for(body)
        created = int(time.time())
        if not body.get("stream"):
            return self._json(200, {
                "id": "chatcmpl-1", "object": "chat.completion", "created": created, "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(pieces), "total_tokens": 10 + len(pieces)}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def event(delta: dict, finish: str | None = None) -> None:
            chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": created, "model": body["model"],
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()

        self.wfile.write(b": keep-alive\n\n")
        event({"role": "assistant", "content": ""})
        for piece in pieces:
            event({"content": piece})
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@pytest.fixture
def chat_server():
    servers: list[FakeChatServer] = []

    def start(**kw) -> FakeChatServer:
        srv = FakeChatServer(**kw)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _openai(url: str, **kw):
    return make_generator(Settings(generator="openai", generator_url=url, **kw))


def test_openai_streamed_and_non_streamed(chat_server):
    srv = chat_server()
    gen = _openai(srv.url, generator_model="tiny-korean-chat")
    pieces = list(gen.stream(_request()))
    assert pieces == ["요청하신 ", "'민원 처리기간은 어떻게 계산하나요?'에 ", "대한 답변입니다. ", "[1]"]
    sent = srv.requests[-1]
    assert sent["stream"] is True and sent["model"] == "tiny-korean-chat" and sent["max_tokens"] == 8
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["system", "user"]
    assert "<<<출처 [1] 「민원 처리에 관한 법률」 제19조>>>" in sent["messages"][-1]["content"]
    assert gen.generate(_request()) == "".join(pieces)
    assert srv.requests[-1]["stream"] is False


def test_openai_model_name_is_taken_from_the_server_when_not_set(chat_server):
    srv = chat_server()
    gen = _openai(srv.url.removesuffix("/v1"))  # a bare host:port gets /v1 appended
    assert gen.generate(_request()).endswith("[1]")
    assert srv.requests[-1]["model"] == "tiny-korean-chat"


def test_openai_retries_503_then_succeeds(chat_server):
    from assistant.generate.openai_backend import OpenAICompatibleGenerator

    srv = chat_server(fail_first=2)
    gen = OpenAICompatibleGenerator(srv.url, "m", max_retries=2, backoff_s=0.01)
    assert "".join(gen.stream(_request())).endswith("[1]")
    assert srv.attempts == 3


def test_openai_gives_up_after_retries_with_a_clear_message(chat_server):
    from assistant.generate.openai_backend import GeneratorUnavailable, OpenAICompatibleGenerator

    srv = chat_server(fail_first=10)
    gen = OpenAICompatibleGenerator(srv.url, "m", max_retries=1, backoff_s=0.01)
    with pytest.raises(GeneratorUnavailable, match="HTTP 503.*model is loading"):
        gen.generate(_request())
    assert srv.attempts == 2


def test_openai_wrong_api_key_names_the_setting(chat_server):
    srv = chat_server(api_key="secret")
    with pytest.raises(ConfigError, match="ASSISTANT_GENERATOR_API_KEY"):
        _openai(srv.url, generator_model="m", generator_api_key="wrong").generate(_request())
    assert _openai(srv.url, generator_model="m", generator_api_key="secret").generate(_request()).endswith("[1]")


def test_openai_server_down_is_a_clear_error():
    from assistant.generate.openai_backend import GeneratorUnavailable, OpenAICompatibleGenerator

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    gen = OpenAICompatibleGenerator(url, "m", max_retries=1, backoff_s=0.01)
    with pytest.raises(GeneratorUnavailable, match=rf"생성 서버\({url}\)에 연결할 수 없습니다"):
        list(gen.stream(_request()))
    with pytest.raises(AssistantError, match="ASSISTANT_GENERATOR_URL"):
        _openai("")
    with pytest.raises(ConfigError, match="올바른 주소"):
        _openai("localhost:8000")


def test_unknown_generator_name_lists_the_choices():
    with pytest.raises(ConfigError, match="extractive, openai, transformers"):
        make_generator(Settings(generator="gpt5"))


# ---------------------------------------------------------------- the ask task on these backends


def test_ask_with_the_tiny_local_model_streams_through_the_task(sample_index, sample_retriever, tiny_model):
    from assistant.tasks.ask import AskService

    settings = sample_index.with_overrides(generator="transformers", generator_model_dir=str(tiny_model),
                                           generator_device="cpu", generator_max_tokens=8)
    service = AskService(sample_retriever, make_generator(settings), settings)
    events = list(service.ask_stream("민원 처리기간은 어떻게 계산하나요?"))
    assert events[0]["type"] == "citations" and events[-1]["type"] == "done"
    assert any(e["type"] == "token" and e["text"] for e in events)
    assert events[-1]["abstained"] is False and events[-1]["answer"]


def test_ask_with_an_openai_server_removes_an_invented_article(sample_index, sample_retriever, chat_server):
    from assistant.tasks.ask import AskService

    srv = chat_server()
    srv.reply_for = lambda body: ["「민원 처리에 관한 법률」 제19조에 따라 시간 단위로 계산합니다. [1] ",
                                  "「민원 처리에 관한 법률」 제91조에 따라 토요일도 산입합니다. [1]"]
    settings = sample_index.with_overrides(generator="openai", generator_url=srv.url, generator_model="m")
    answer = AskService(sample_retriever, make_generator(settings), settings).ask("민원 처리기간은 어떻게 계산하나요?")
    assert answer.answer == "「민원 처리에 관한 법률」 제19조에 따라 시간 단위로 계산합니다. [1]"
    assert [c.label for c in answer.report.removed] == ["「민원 처리에 관한 법률」 제91조"]
    sent = srv.requests[-1]["messages"][-1]["content"]
    assert "질문: 민원 처리기간은 어떻게 계산하나요?" in sent and "<<<출처 [1] 「민원 처리에 관한 법률」" in sent
