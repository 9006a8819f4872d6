import Foundation
import Testing

/// The `ringside` commands as a script or a user runs them: the built binary in a child
/// process, its stdout, stderr and exit status. The JSON keys checked here are contracts.
@Suite("commands", .serialized)
struct CommandTests {
    /// The product is built next to the test bundle (.build/<triple>/release/).
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("ringside").path

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to completion. Output goes through files, never pipes, so a large
    /// output cannot block the child while nobody reads.
    static func ringside(_ args: [String], environment: [String: String] = [:]) throws -> Run {
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the ringside product first (make test does)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let o = try FileHandle(forWritingTo: out), e = try FileHandle(forWritingTo: err)
        p.standardOutput = o
        p.standardError = e
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try o.close()
        try e.close()
        return Run(status: p.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                   stderr: try String(contentsOf: err, encoding: .utf8))
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    @Test func generateJSONHasEveryKey() throws {
        let r = try Self.ringside(["generate", "--model", "smollm2-135m-instruct", "--prompt", "The capital of France is",
                                   "--max-tokens", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        let keys: Set = ["model", "prompt_ids", "output_ids", "text", "reasoning", "finish_reason", "prompt_tokens",
                         "completion_tokens", "first_top5_logprobs", "ttft_ms", "decode_tokens_per_s"]
        #expect(keys.isSubset(of: Set(j.keys)), "missing \(keys.subtracting(j.keys).sorted())")
        // Greedy SmolLM2 (transformers' reference, Fixtures/smollm2-greedy-capital.json).
        #expect(j["prompt_ids"] as? [Int] == [504, 3575, 282, 4649, 314])
        #expect(j["output_ids"] as? [Int] == [7042, 30, 198])
        #expect(j["text"] as? String == " Paris.\n")
        #expect(j["reasoning"] as? String == "")
        #expect(j["finish_reason"] as? String == "length")
        #expect(j["prompt_tokens"] as? Int == 5 && j["completion_tokens"] as? Int == 3)
        #expect((j["model"] as? String)?.isEmpty == false)
        let top = try #require(j["first_top5_logprobs"] as? [[Double]])
        #expect(top.count == 5 && top.map { Int($0[0]) }.prefix(3) == [7042, 260, 4528])
        #expect(top.allSatisfy { $0.count == 2 && $0[1] < 0 } && top.map { $0[1] } == top.map { $0[1] }.sorted(by: >))
        #expect((j["ttft_ms"] as? Double ?? 0) > 0 && (j["decode_tokens_per_s"] as? Double ?? 0) > 0)
    }

    @Test func benchOutputFileHasEveryKey() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-bench-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try Self.ringside(["bench", "--model", "smollm2-135m-instruct", "--num-prompts", "3", "--input-len", "12",
                                   "--output-len", "4", "--output-file", file])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Serving Benchmark Result"))
        let j = try Self.json(try String(contentsOfFile: file, encoding: .utf8))
        let keys: Set = ["backend", "workload", "completed", "failed", "duration_s", "total_input_tokens", "total_output_tokens",
                         "request_throughput", "input_throughput", "output_throughput", "mean_ttft_ms", "median_ttft_ms",
                         "p99_ttft_ms", "mean_itl_ms", "median_itl_ms", "p99_itl_ms", "mean_e2e_latency_ms", "cache_hit_rate",
                         "overlap_ratio", "host_gap_us", "kv_pages_peak", "errors"]
        #expect(keys.isSubset(of: Set(j.keys)), "missing \(keys.subtracting(j.keys).sorted())")
        #expect(j["completed"] as? Int == 3 && j["failed"] as? Int == 0)
        #expect(j["total_input_tokens"] as? Int == 36 && j["total_output_tokens"] as? Int == 12)
        for k in ["duration_s", "request_throughput", "input_throughput", "output_throughput", "mean_ttft_ms", "median_ttft_ms",
                  "p99_ttft_ms", "mean_itl_ms", "median_itl_ms", "p99_itl_ms", "mean_e2e_latency_ms"] {
            #expect((j[k] as? Double ?? 0) > 0, "\(k) = \(String(describing: j[k]))")
        }
        let ratio = try #require(j["overlap_ratio"] as? Double)
        #expect(ratio >= 0 && ratio <= 1)
        #expect((j["kv_pages_peak"] as? Int ?? 0) > 0)
        let gap = try #require(j["host_gap_us"] as? [String: Any])
        #expect(Set(["p50", "p99", "prefill_to_decode_p50"]).isSubset(of: Set(gap.keys)))
        #expect((j["errors"] as? [Any])?.isEmpty == true)
        #expect(j["backend"] as? String != nil && j["workload"] as? String != nil)
    }

    @Test func modelsListAndPath() throws {
        let list = try Self.ringside(["models", "list"])
        #expect(list.status == 0)
        let line = try #require(list.stdout.split(separator: "\n").first { $0.contains("smollm2-135m-instruct") })
        #expect(line.contains("installed"), "\(line)")
        #expect(list.stdout.contains("gemma-3-270m") && list.stdout.contains("tiny-ring"))
        #expect(try Self.ringside(["models"]).stdout == list.stdout, "list is the default subcommand")

        let path = try Self.ringside(["models", "path", "smollm2-135m-instruct"])
        #expect(path.status == 0)
        let p = path.stdout.trimmingCharacters(in: .newlines)
        #expect(p.hasSuffix(".gguf") && FileManager.default.fileExists(atPath: p), "\(p)")

        // An empty cache: nothing is installed, and `path` says how to get the model.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let bare = try Self.ringside(["models", "list"], environment: ["XDG_CACHE_HOME": empty])
        #expect(bare.stdout.contains("cache: \(empty)/ringside/models"), "\(bare.stdout)")
        #expect(bare.stdout.split(separator: "\n").first { $0.contains("smollm2-135m-instruct") }?.contains("not pulled") == true)
        let missing = try Self.ringside(["models", "path", "smollm2-135m-instruct"], environment: ["XDG_CACHE_HOME": empty])
        #expect(missing.status == 1 && missing.stdout.isEmpty)
        #expect(missing.stderr.contains("ringside models pull smollm2-135m-instruct"), "\(missing.stderr)")
    }

    @Test func errorsExitNonZeroWithOneClearLine() throws {
        let unknown = try Self.ringside(["models", "path", "no-such-model"])
        #expect(unknown.status == 1 && unknown.stderr.contains("'no-such-model'") && unknown.stderr.contains("smollm2-135m-instruct"),
                "\(unknown.stderr)")
        let badModel = try Self.ringside(["generate", "--model", "/nonexistent/model.gguf", "--prompt", "hi"])
        #expect(badModel.status == 1 && badModel.stderr.contains("/nonexistent/model.gguf"), "\(badModel.stderr)")
        // A file that is not a model: refused with the reason, not a crash.
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-junk-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: junk) }
        #expect(FileManager.default.createFile(atPath: junk, contents: Data("not a gguf file at all".utf8)))
        let notModel = try Self.ringside(["generate", "--model", junk, "--prompt", "hi"])
        #expect(notModel.status == 1 && notModel.stderr.contains("not a GGUF file"), "\(notModel.stderr)")
        // Usage errors: ArgumentParser's exit status 64 and the flag named.
        let topP = try Self.ringside(["generate", "--prompt", "hi", "--top-p", "0"])
        #expect(topP.status == 64 && topP.stderr.contains("--top-p"), "\(topP.status) \(topP.stderr)")
        let noPrompt = try Self.ringside(["generate"])
        #expect(noPrompt.status == 64 && noPrompt.stderr.contains("--prompt"), "\(noPrompt.stderr)")
        let bench = try Self.ringside(["bench", "--range-ratio", "2"])
        #expect(bench.status == 64 && bench.stderr.contains("--range-ratio"))
        let sub = try Self.ringside(["no-such-command"])
        #expect(sub.status == 64, "\(sub.stderr)")
    }
}
