"""Checks a running `ringside serve` through the real `openai` client and raw HTTP.

Usage: openai_checks.py BASE_URL CHECK [CHECK ...]
Each check asserts against independent truth (the reference outputs of Hugging Face
transformers in Tests/EngineTests/Fixtures, OpenAI's documented shapes, Prometheus' own
parser) and prints "ok NAME"; the first failure raises and exits non-zero.
"""
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse

import openai
from prometheus_client.parser import text_string_to_metric_families

BASE = sys.argv[1]
URL = urllib.parse.urlparse(BASE)
KEY = os.environ.get("CHECK_API_KEY", "none")
MODEL = os.environ.get("CHECK_MODEL", "smollm2-135m-instruct")
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "EngineTests", "Fixtures")
client = openai.OpenAI(base_url=BASE + "/v1", api_key=KEY, max_retries=0, timeout=120)


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def raw(method, path, body=None, headers=None, timeout=120):
    """(status, headers, body bytes) of one request; body may be bytes, str or a JSON value."""
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=timeout)
    h = {"Authorization": f"Bearer {KEY}"}
    h.update(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def expect_error(status, path, body, want_status, param=None, method="POST", headers=None):
    got, h, data = raw(method, path, body, headers)
    assert got == want_status, f"{path}: status {got}, want {want_status}: {data[:300]!r}"
    err = json.loads(data)["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert isinstance(err["message"], str) and err["message"], err
    if param is not None:
        assert err["param"] == param, f"param {err['param']!r}, want {param!r}: {err}"
    return err, h


def metrics():
    status, _, data = raw("GET", "/metrics")
    assert status == 200, status
    out = {}
    for fam in text_string_to_metric_families(data.decode()):
        for s in fam.samples:
            key = s.name + ("" if not s.labels else json.dumps(s.labels, sort_keys=True))
            out[key] = s.value
    return out


# MARK: checks against the SmolLM2 reference outputs

def chat_plain():
    ref = fixture("smollm2-greedy-chat.json")
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": ref["prompt"]}],
                                       temperature=0, max_tokens=32)
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-") and r.model == MODEL, r
    assert len(r.choices) == 1 and r.choices[0].index == 0
    m = r.choices[0].message
    assert m.role == "assistant"
    # The reference ends its answer with <|im_end|> (id 2), an end-of-turn token.
    want = ref["generated_text"].split("<|im_end|>")[0]
    assert m.content == want, (m.content, want)
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == len(ref["prompt_ids"]), (r.usage, len(ref["prompt_ids"]))
    # The end-of-turn token ends the answer; it is not counted as completion.
    assert r.usage.completion_tokens == ref["generated_ids"].index(2), r.usage
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.prompt_tokens_details.cached_tokens is not None


def chat_stream():
    ref = fixture("smollm2-greedy-chat.json")
    want = ref["generated_text"].split("<|im_end|>")[0]
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": [{"type": "text", "text": ref["prompt"]}]}],
        temperature=0, max_tokens=32, stream=True, stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == want, (text, want)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"], finishes
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and chunks[-1] is usage_chunks[0] and chunks[-1].choices == []
    assert usage_chunks[0].usage.prompt_tokens == len(ref["prompt_ids"])
    assert usage_chunks[0].usage.completion_tokens == ref["generated_ids"].index(2)


def completion_plain():
    ref = fixture("smollm2-greedy-capital.json")
    n = len(ref["generated_ids"])
    r = client.completions.create(model=MODEL, prompt=ref["prompt"], temperature=0, max_tokens=n)
    assert r.object == "text_completion" and r.id.startswith("cmpl-")
    assert r.choices[0].text == ref["generated_text"], (r.choices[0].text, ref["generated_text"])
    assert r.choices[0].finish_reason == "length"
    assert r.usage.prompt_tokens == len(ref["prompt_ids"]) and r.usage.completion_tokens == n
    # The same prompt as token ids gives the same text.
    r2 = client.completions.create(model=MODEL, prompt=ref["prompt_ids"], temperature=0, max_tokens=n)
    assert r2.choices[0].text == ref["generated_text"]


def completion_stream():
    ref = fixture("smollm2-greedy-swift.json")
    n = len(ref["generated_ids"])
    chunks = list(client.completions.create(model=MODEL, prompt=ref["prompt"], temperature=0, max_tokens=n, stream=True))
    assert all(c.object == "text_completion" for c in chunks)
    text = "".join(c.choices[0].text for c in chunks)
    assert text == ref["generated_text"], (text, ref["generated_text"])
    assert chunks[-1].choices[0].finish_reason == "length"
    assert all(c.usage is None for c in chunks)


def prompt_list():
    a, b = fixture("smollm2-greedy-capital.json"), fixture("smollm2-greedy-swift.json")
    r = client.completions.create(model=MODEL, prompt=[a["prompt"], b["prompt"]], temperature=0, max_tokens=6)
    texts = {c.index: c.text for c in r.choices}
    assert texts[0] == tokens_text(a, 6) and texts[1] == tokens_text(b, 6), texts
    assert r.usage.prompt_tokens == len(a["prompt_ids"]) + len(b["prompt_ids"])


def tokens_text(ref, n):
    status, _, data = raw("POST", "/detokenize", {"tokens": ref["generated_ids"][:n]})
    assert status == 200
    return json.loads(data)["text"]


def logprobs():
    ref = fixture("smollm2-greedy-chat.json")
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": ref["prompt"]}],
                                       temperature=0, max_tokens=3, logprobs=True, top_logprobs=5)
    content = r.choices[0].logprobs.content
    assert len(content) == 3
    first = content[0]
    want = [t[2] for t in ref["first_top5"]]
    # Token strings are the tokenizer's bytes; the reference writes GPT-2's byte symbols (Ġ = space).
    got = [t.token.replace(" ", "Ġ").replace("\n", "Ċ") for t in first.top_logprobs]
    assert got == want, (got, want)
    assert first.token == first.top_logprobs[0].token and abs(first.logprob - first.top_logprobs[0].logprob) < 1e-6
    # Differences of log-probabilities are differences of logits.
    for k in range(1, 5):
        d = first.top_logprobs[0].logprob - first.top_logprobs[k].logprob
        dref = ref["first_top5"][0][1] - ref["first_top5"][k][1]
        assert abs(d - dref) < 2e-2, (k, d, dref)
    assert all(lp.logprob <= 0 for lp in content) and bytes(first.bytes).decode() == first.token
    # Legacy completions shape.
    c = client.completions.create(model=MODEL, prompt="The capital of France is", temperature=0, max_tokens=2, logprobs=2)
    lp = c.choices[0].logprobs
    assert len(lp.tokens) == 2 and len(lp.token_logprobs) == 2 and len(lp.top_logprobs) == 2
    assert "".join(lp.tokens) == c.choices[0].text and lp.text_offset == [0, len(lp.tokens[0])]
    assert all(len(t) == 2 for t in lp.top_logprobs)


def stop():
    ref = fixture("smollm2-greedy-capital.json")
    text = ref["generated_text"]
    cut = text.index("answer")
    r = client.completions.create(model=MODEL, prompt=ref["prompt"], temperature=0, max_tokens=10, stop=["answer", "zzz"])
    assert r.choices[0].text == text[:cut] and r.choices[0].finish_reason == "stop", r.choices[0]
    r = client.completions.create(model=MODEL, prompt=ref["prompt"], temperature=0, max_tokens=10, stop="\n")
    assert r.choices[0].text == text[:text.index("\n")], r.choices[0].text
    s = "".join(c.choices[0].text for c in client.completions.create(
        model=MODEL, prompt=ref["prompt"], temperature=0, max_tokens=10, stop=["answer"], stream=True))
    assert s == text[:cut], s


def seed():
    args = dict(model=MODEL, prompt="Once upon a time", temperature=1.0, max_tokens=8)
    a = client.completions.create(seed=1234, **args).choices[0].text
    b = client.completions.create(seed=1234, **args).choices[0].text
    outs = {client.completions.create(seed=s, **args).choices[0].text for s in (1, 2, 3)}
    assert a == b, (a, b)
    assert len(outs) > 1, outs


def n_choices():
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Tell me a story about a cat."}],
                                       temperature=1.0, seed=7, max_tokens=8, n=2)
    assert sorted(c.index for c in r.choices) == [0, 1]
    assert r.choices[0].message.content != r.choices[1].message.content
    assert r.usage.completion_tokens <= 16
    if all(c.finish_reason == "length" for c in r.choices):
        assert r.usage.completion_tokens == 16, r.usage
    # Streamed: both choices arrive, each with its own finish.
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}],
                                                 temperature=0, max_tokens=8, n=2, stream=True))
    texts = ["", ""]
    finishes = [None, None]
    for c in chunks:
        for ch in c.choices:
            texts[ch.index] += ch.delta.content or ""
            finishes[ch.index] = ch.finish_reason or finishes[ch.index]
    assert texts[0] == texts[1] and texts[0], texts  # greedy: the same answer twice
    assert None not in finishes


def cached_tokens():
    status, _, _ = raw("POST", "/flush_cache")
    assert status == 200
    prompt = "You are a careful assistant. " * 20 + "Question: what is two plus two?"
    m0 = metrics()
    a = client.completions.create(model=MODEL, prompt=prompt, temperature=0, max_tokens=4)
    b = client.completions.create(model=MODEL, prompt=prompt, temperature=0, max_tokens=4)
    p = a.usage.prompt_tokens
    assert a.usage.prompt_tokens_details.cached_tokens == 0, a.usage
    # Whole 16-token pages of the prompt (all but its last token) come from the radix cache.
    assert b.usage.prompt_tokens_details.cached_tokens == (p - 1) // 16 * 16, (b.usage, p)
    m1 = metrics()
    assert m1["ringside:cached_tokens_total"] - m0["ringside:cached_tokens_total"] == (p - 1) // 16 * 16
    assert m1["ringside:cache_hit_rate"] > 0


def models_and_health():
    ms = client.models.list().data
    assert [m.id for m in ms] == [MODEL] and ms[0].object == "model", ms
    assert client.models.retrieve(MODEL).id == MODEL
    status, _, _ = raw("GET", "/health")
    assert status == 200
    status, _, _ = raw("GET", "/health_generate")
    assert status == 200


def tokenizer_endpoints():
    ref = fixture("smollm2-greedy-capital.json")
    s, _, d = raw("POST", "/tokenize", {"prompt": ref["prompt"]})
    j = json.loads(d)
    assert s == 200 and j["tokens"] == ref["prompt_ids"] and j["count"] == len(ref["prompt_ids"]) and j["max_model_len"] > 0, j
    s, _, d = raw("POST", "/tokenize", {"content": ref["prompt"], "with_pieces": True})
    j = json.loads(d)
    assert [t["id"] for t in j["tokens"]] == ref["prompt_ids"] and "".join(t["piece"] for t in j["tokens"]) == ref["prompt"], j
    s, _, d = raw("POST", "/detokenize", {"tokens": ref["generated_ids"]})
    j = json.loads(d)
    assert j["text"] == ref["generated_text"] and j["content"] == ref["generated_text"], j
    chat = fixture("smollm2-greedy-chat.json")
    s, _, d = raw("POST", "/apply-template", {"messages": [{"role": "user", "content": chat["prompt"]}]})
    assert s == 200 and json.loads(d)["prompt"] == chat["prompt_text"], d


def flush_cache():
    s, _, d = raw("POST", "/flush_cache")
    assert s == 200, d
    m = metrics()
    assert m["ringside:kv_pages_evictable"] == 0 and m["ringside:kv_pages_free"] == m["ringside:kv_pages_total"], m


def metrics_move():
    m0 = metrics()
    r = client.completions.create(model=MODEL, prompt="The capital of France is", temperature=0, max_tokens=5)
    m1 = metrics()
    d = lambda k: m1[k] - m0[k]
    assert d("ringside:num_requests_total") == 1
    assert d("ringside:prompt_tokens_total") == r.usage.prompt_tokens
    assert d("ringside:generation_tokens_total") == r.usage.completion_tokens
    assert d("ringside:time_to_first_token_seconds_count") == 1
    assert d("ringside:e2e_request_latency_seconds_count") == 1
    assert d("ringside:queue_time_seconds_count") == 1
    assert d("ringside:inter_token_latency_seconds_count") == r.usage.completion_tokens - 1
    assert d("ringside:e2e_request_latency_seconds_sum") > 0
    for name in ["num_running_reqs", "num_queue_reqs", "num_used_tokens", "token_usage", "cache_hit_rate",
                 "gen_throughput", "num_aborted_requests_total", "num_retracted_reqs", "overlap_ratio",
                 "kv_pages_used", "kv_pages_total", "device_gap_seconds_count", "prefill_to_decode_gap_seconds_count"]:
        assert "ringside:" + name in m1, name
    assert m1["ringside:kv_pages_total"] > 0
    # The timeline drain runs every 250 ms: device gaps of this request show up shortly.
    time.sleep(0.6)
    m2 = metrics()
    assert m2["ringside:device_gap_seconds_count"] > m0["ringside:device_gap_seconds_count"]
    assert m2["ringside:gen_throughput"] > 0


def kv_idle():
    deadline = time.time() + 10
    while True:
        m = metrics()
        ok = (m["ringside:kv_pages_free"] + m["ringside:kv_pages_evictable"] == m["ringside:kv_pages_total"]
              and m["ringside:num_running_reqs"] == 0 and m["ringside:num_queue_reqs"] == 0)
        if ok:
            return
        assert time.time() < deadline, m
        time.sleep(0.2)


# MARK: errors

def errors():
    e, _ = expect_error(400, "/v1/chat/completions", b'{"model": "x", "messages": [', 400)
    assert e["type"] == "invalid_request_error"
    expect_error(400, "/v1/chat/completions", "", 400)
    expect_error(400, "/v1/chat/completions", [1, 2], 400)
    msgs = [{"role": "user", "content": "hi"}]
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": msgs, "temperature": "hot"}, 400, "temperature")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": msgs, "temperature": 7}, 400, "temperature")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": msgs, "max_tokens": 0}, 400, "max_tokens")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": msgs, "n": 1.5}, 400, "n")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": "hi"}, 400, "messages")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user"}]}, 400, "messages[0].content")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}, 400, "messages[0].role")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": msgs, "stop": 5}, 400, "stop")
    expect_error(400, "/v1/completions", {"model": MODEL, "prompt": [1, -3]}, 400, "prompt[1]")
    e, _ = expect_error(400, "/v1/chat/completions",
                        {"model": MODEL, "messages": msgs, "tools": [{"type": "function", "function": {"name": "f"}}]}, 400, "tools")
    assert "tools" in e["message"]
    e, _ = expect_error(400, "/v1/chat/completions",
                        {"model": MODEL, "messages": msgs, "response_format": {"type": "json_object"}}, 400, "response_format")
    e, _ = expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": msgs, "frobnicate": 1}, 400, "frobnicate")
    assert "frobnicate" in e["message"]
    # Prompts longer than the context (the server runs with a small KV pool).
    e, _ = expect_error(400, "/v1/completions", {"model": MODEL, "prompt": [504] * 5000}, 400, "prompt")
    assert e["code"] == "context_length_exceeded"
    e, _ = expect_error(404, "/v1/chat/completions", {"model": "gpt-9", "messages": msgs}, 404, "model")
    assert e["code"] == "model_not_found"
    expect_error(404, "/v1/nothing", None, 404, method="GET")
    expect_error(404, "/v1/models/gpt-9", None, 404, method="GET")
    expect_error(405, "/v1/chat/completions", None, 405, method="GET")
    # Over the body limit (the server runs with --max-body-bytes 65536).
    e, _ = expect_error(413, "/v1/completions", {"model": MODEL, "prompt": "x" * 100_000}, 413)
    # The same errors through the openai client raise its typed exceptions.
    try:
        client.chat.completions.create(model=MODEL, messages=msgs, temperature=9)
        raise AssertionError("no error")
    except openai.BadRequestError as ex:
        assert ex.status_code == 400 and ex.body["param"] == "temperature", ex.body
    try:
        client.chat.completions.create(model="gpt-9", messages=msgs)
        raise AssertionError("no error")
    except openai.NotFoundError as ex:
        assert ex.status_code == 404


def api_key():
    status, _, _ = raw("GET", "/health", headers={"Authorization": ""})
    assert status == 200, status
    for h in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}):
        e, _ = expect_error(401, "/v1/models", None, 401, method="GET", headers=h)
        assert e["code"] == "invalid_api_key"
        expect_error(401, "/metrics", None, 401, method="GET", headers=h)
        expect_error(401, "/v1/chat/completions", {"messages": []}, 401, headers=h)
    bad = openai.OpenAI(base_url=BASE + "/v1", api_key="wrong", max_retries=0)
    try:
        bad.models.list()
        raise AssertionError("no error")
    except openai.AuthenticationError as ex:
        assert ex.status_code == 401
    assert client.models.list().data[0].id == MODEL
    r = client.completions.create(model=MODEL, prompt="Hello", max_tokens=2, temperature=0)
    assert r.usage.completion_tokens == 2


def overloaded():
    """The server runs one request at a time with no queue: a second concurrent one gets 503."""
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)
    c.request("POST", "/v1/completions", json.dumps({"model": MODEL, "prompt": "Count:", "max_tokens": 200,
                                                      "stream": True, "ignore_eos": True, "temperature": 0}),
              {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    r = c.getresponse()
    assert r.status == 200
    r.readline()  # the first event: the request is running
    e, h = expect_error(503, "/v1/completions", {"model": MODEL, "prompt": "Hi", "max_tokens": 2}, 503)
    assert int(h["retry-after"]) >= 1, h
    try:
        client.completions.create(model=MODEL, prompt="Hi", max_tokens=2)
        raise AssertionError("no error")
    except openai.InternalServerError as ex:
        assert ex.status_code == 503
    c.close()


# MARK: bad traffic

def send_raw(data, read=True):
    """Writes bytes on a fresh socket (then half-closes); returns the status line, if any."""
    s = socket.create_connection((URL.hostname, URL.port), timeout=30)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = b""
    if read:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    s.close()
    return out.split(b"\r\n", 1)[0]


def bad_traffic():
    import threading
    auth = f"Authorization: Bearer {KEY}\r\n".encode()
    # A body shorter than its Content-Length, then the connection closes.
    send_raw(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Type: application/json\r\n"
             b"Content-Length: 400\r\n\r\n{\"prompt\": \"Hello", read=True)
    # Not HTTP at all.
    send_raw(b"\x00\x01\x02 garbage\r\n\r\n")
    # Malformed and wrongly typed bodies; a body over the limit.
    line = send_raw(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 9\r\n\r\n{\"prompt\"")
    assert line.endswith(b"400 Bad Request"), line
    expect_error(400, "/v1/completions", {"model": MODEL, "prompt": {"text": 1}}, 400, "prompt")
    expect_error(400, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
                 400, "messages[0].content[0].type")
    expect_error(413, "/v1/completions", b"[" + b"1," * 40_000 + b"1]", 413, headers={"Content-Type": "application/json"})

    # 64 concurrent streaming clients; every third goes away after its first events.
    results = [None] * 64
    def client_thread(i):
        body = json.dumps({
            "model": MODEL, "messages": [{"role": "user", "content": f"Tell me a story about the number {i}."}],
            "max_tokens": 24, "temperature": 0.7, "seed": i, "stream": True, "ignore_eos": True})
        try:
            if i % 3 == 0:
                # Raw socket: read the first events, then hang up.
                s = socket.create_connection((URL.hostname, URL.port), timeout=300)
                s.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
                got = b""
                while got.count(b"data: ") < 3:
                    chunk = s.recv(4096)
                    assert chunk, got
                    got += chunk
                assert got.startswith(b"HTTP/1.1 200"), got[:100]
                s.shutdown(socket.SHUT_RDWR)
                s.close()
                results[i] = "gone"
                return
            c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=300)
            c.request("POST", "/v1/chat/completions", body,
                      {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
            r = c.getresponse()
            assert r.status == 200, r.status
            text = r.read().decode()
            assert text.rstrip().endswith("data: [DONE]"), text[-200:]
            results[i] = "done"
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = repr(e)
    m0 = metrics()
    threads = [threading.Thread(target=client_thread, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    bad = [(i, r) for i, r in enumerate(results) if r not in ("gone", "done")]
    assert not bad, bad
    # The server still answers, and the pool is back to idle.
    r = client.completions.create(model=MODEL, prompt="The capital of France is", temperature=0, max_tokens=3)
    assert r.choices[0].text == " Paris.\n", r.choices[0].text
    kv_idle()
    m1 = metrics()
    aborted = m1["ringside:num_aborted_requests_total"] - m0["ringside:num_aborted_requests_total"]
    # The ones that went away after 3 events had not finished 24 tokens.
    assert aborted == 22, aborted


# MARK: shutdown

def start_stream(max_tokens):
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=120)
    c.request("POST", "/v1/completions", json.dumps({"model": MODEL, "prompt": "Count:", "max_tokens": max_tokens,
                                                      "stream": True, "ignore_eos": True, "temperature": 0}),
              {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    r = c.getresponse()
    assert r.status == 200
    r.readline()
    return c, r


def events(r):
    out = []
    for line in r.read().decode().split("\n"):
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def graceful_finish():
    """SIGTERM while a request streams: it still finishes whole; new connections are refused."""
    c, r = start_stream(16)
    os.kill(int(os.environ["CHECK_SERVER_PID"]), 15)
    time.sleep(0.5)
    try:
        socket.create_connection((URL.hostname, URL.port), timeout=5).close()
        raise AssertionError("the server still accepts connections after SIGTERM")
    except ConnectionRefusedError:
        pass
    evs = events(r)
    assert evs[-1]["choices"][0]["finish_reason"] == "length", evs[-1]
    c.close()


def graceful_timeout():
    """SIGTERM with a request that would run far past --shutdown-timeout: it is aborted."""
    c, r = start_stream(100_000)
    t = time.time()
    os.kill(int(os.environ["CHECK_SERVER_PID"]), 15)
    try:
        evs = events(r)
        assert evs[-1]["choices"][0]["finish_reason"] == "abort", evs[-1]
    except http.client.IncompleteRead:
        pass  # the connection was closed under the stream: also an abort
    assert time.time() - t < 15, time.time() - t
    c.close()


# MARK: reasoning (tiny-ring)

def reasoning():
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is 12 + 34?"}],
                                       temperature=0, max_tokens=200)
    m = r.choices[0].message
    assert m.content == "The answer is 46.", m
    reasoning_text = m.model_extra.get("reasoning_content")
    assert reasoning_text and "</think>" not in reasoning_text and "46" in reasoning_text, reasoning_text
    assert r.choices[0].finish_reason == "stop"
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is 12 + 34?"}],
                                                 temperature=0, max_tokens=200, stream=True))
    rs = [c.choices[0].delta.model_extra.get("reasoning_content") for c in chunks if c.choices]
    cs = [c.choices[0].delta.content for c in chunks if c.choices]
    assert all(not (a and b) for a, b in zip(rs, cs)), "a chunk mixed reasoning and content"
    assert "".join(x or "" for x in rs) == reasoning_text
    assert "".join(x or "" for x in cs) == "The answer is 46."
    last_reasoning = max(i for i, x in enumerate(rs) if x)
    first_content = min(i for i, x in enumerate(cs) if x)
    assert last_reasoning < first_content
    # separate_reasoning off: everything is content, tags included.
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is 12 + 34?"}],
                                       temperature=0, max_tokens=200, extra_body={"separate_reasoning": False})
    m = r.choices[0].message
    assert m.content.endswith("The answer is 46.") and "</think>" in m.content, m.content
    assert m.model_extra.get("reasoning_content") is None
    # chat_template_kwargs reach the template (Ring's ignores enable_thinking; the render must not fail).
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is 2 + 3?"}],
                                       temperature=0, max_tokens=100,
                                       extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    assert r.choices[0].message.content == "The answer is 5.", r.choices[0].message
    # Per-expert token counts of the MoE layers: every token goes to 4 experts in each layer.
    time.sleep(0.6)
    per_layer = {}
    for key, v in metrics().items():
        if key.startswith("ringside:expert_tokens_total{"):
            labels = json.loads(key[len("ringside:expert_tokens_total"):])
            per_layer[labels["layer"]] = per_layer.get(labels["layer"], 0) + v
    assert len(per_layer) == 5, per_layer  # layer 0 is dense
    sums = set(per_layer.values())
    assert len(sums) == 1 and list(sums)[0] > 0 and list(sums)[0] % 4 == 0, per_layer


CHECKS = {f.__name__: f for f in [chat_plain, chat_stream, completion_plain, completion_stream, prompt_list, logprobs,
                                  stop, seed, n_choices, cached_tokens, models_and_health, tokenizer_endpoints,
                                  flush_cache, metrics_move, kv_idle, errors, api_key, overloaded, bad_traffic, graceful_finish,
                                  graceful_timeout, reasoning]}

if __name__ == "__main__":
    for name in sys.argv[2:]:
        t = time.time()
        CHECKS[name]()
        print(f"ok {name} ({time.time() - t:.2f} s)", flush=True)
