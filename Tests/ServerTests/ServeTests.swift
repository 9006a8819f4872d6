import Foundation
import Testing

/// `ringside serve` as a client sees it: a real process on loopback, driven by the real
/// `openai` Python client (`make test` installs it) and checked against the Hugging Face
/// reference outputs of SmolLM2 and tiny-ring's trained answers. Serialized, nested suites
/// included: servers running side by side on 2 cores would slow each other past timeouts.
@Suite("ringside serve", .serialized)
struct ServeTests {
    static let smol = ["--model", "smollm2-135m-instruct", "--kv-cache-tokens", "4096"]

    @Test func chatCompletionsAndEndpoints() throws {
        let server = try ServeProcess(Self.smol)
        try server.check(["models_and_health", "chat_plain", "chat_stream", "completion_plain", "completion_stream",
                          "prompt_list", "logprobs", "stop", "seed", "n_choices", "cached_tokens", "tokenizer_endpoints",
                          "metrics_move", "kv_idle", "flush_cache"])
        #expect(server.stop() == 0)
        // One log line per request.
        #expect(server.output.contains("POST /v1/chat/completions 200"))
    }

    @Test func errorsAreOpenAIErrorObjects() throws {
        let server = try ServeProcess(["--model", "smollm2-135m-instruct", "--kv-cache-tokens", "1024",
                                       "--max-body-bytes", "65536"])
        try server.check(["errors", "kv_idle"])
        #expect(server.stop() == 0)
    }

    @Test func apiKeyFromTheEnvironment() throws {
        let server = try ServeProcess(Self.smol, environment: ["RINGSIDE_API_KEY": "sekrit"])
        try server.check(["api_key"], environment: ["CHECK_API_KEY": "sekrit"])
        #expect(server.stop() == 0)
    }

    @Test func fullQueueGets503WithRetryAfter() throws {
        let server = try ServeProcess(Self.smol + ["--max-running-requests", "1", "--max-queued-requests", "0"])
        try server.check(["overloaded"])
        try server.check(["kv_idle"])
        #expect(server.stop() == 0)
    }

    @Test func reasoningApartWithTinyRing() throws {
        let server = try ServeProcess(["--model", "tiny-ring", "--kv-cache-tokens", "4096"])
        try server.check(["reasoning"], environment: ["CHECK_MODEL": "tiny-ring"])
        #expect(server.stop() == 0)
    }
}

extension ServeTests {
/// SIGTERM: stop accepting, let running requests finish within --shutdown-timeout, exit 0.
@Suite("shutdown")
struct Shutdown {
    @Test func sigtermLetsRunningRequestsFinish() throws {
        let server = try ServeProcess(ServeTests.smol + ["--shutdown-timeout", "120"])
        try server.check(["graceful_finish"], environment: ["CHECK_SERVER_PID": String(server.process.processIdentifier)])
        #expect(server.stop(within: 130) == 0)
    }

    @Test func sigtermAbortsWhatOutlivesTheTimeout() throws {
        let server = try ServeProcess(ServeTests.smol + ["--shutdown-timeout", "1"])
        try server.check(["graceful_timeout"], environment: ["CHECK_SERVER_PID": String(server.process.processIdentifier)])
        #expect(server.stop(within: 30) == 0)
    }
}

/// Malformed, truncated and oversized requests, and 64 clients of which a third hang up
/// mid-stream: the server keeps answering and every KV page comes back.
@Suite("bad traffic")
struct BadTraffic {
    @Test func survivesAndFreesEveryPage() throws {
        let server = try ServeProcess(["--model", "smollm2-135m-instruct", "--kv-cache-tokens", "8192", "--max-body-bytes", "65536"])
        try server.check(["bad_traffic"])
        #expect(server.stop() == 0)
    }
}
}
