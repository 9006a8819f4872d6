import Attach
import Engine
import Profiler
import Foundation
import Remote
import Testing
@testable import TUI

/// The remote model picker (`GET /v1/models`) and `--server-kind` against a real `ringside serve`.
@Suite("attach: model picker and --server-kind", .serialized)
struct PickerAndKindTests {
    @Test func pickerListsTheServersModelsAndTheChoiceIsWhatTheChatAsksFor() async throws {
        let server = try LoopbackServer(["--model", "tiny-ring", "--kv-cache-tokens", "2048", "--served-model-name", "ring-a"])
        let source = try RemoteSource(url: server.base, apiKey: nil, kind: nil, chat: true, model: nil)
        defer { source.close() }
        let named = try await RemoteSourceTests.eventually { source.modelName == "ring-a" && source.status?.contains("Ringside at") == true ? true : nil }
        #expect(named == true, "\(source.modelName) · \(source.status ?? "")")
        guard case .success(let listed) = source.pickerModels() else {
            Issue.record("the picker was refused")
            return
        }
        #expect(listed == ["ring-a"], "what /v1/models lists")

        // The cockpit's picker shows them and choosing one switches what the chat asks for.
        let themes = ThemeCatalog.standard()
        let app = CockpitApp(source: source, themes: themes, theme: themes.load("default"))
        app.openPicker()
        let picker = try #require(app.picker)
        #expect(picker.rows.map(\.name) == ["ring-a"] && picker.rows.allSatisfy { $0.note == "served" })
        var buf = ScreenBuffer(width: 100, height: 30)
        picker.render(into: &buf, theme: themes.load("default"))
        let screen = buf.lines.joined(separator: "\n")
        #expect(screen.contains("› ring-a") && screen.contains("served"), "\(screen)")
        _ = app.handlePicker(.enter)
        let switched = try await RemoteSourceTests.eventually(30) { () -> Bool? in
            app.checkPicker()
            return app.picker == nil ? true : nil
        }
        #expect(switched == true)
        #expect(app.frame.chat.turns.last?.text == "switched to ring-a")

        // The chat sends the chosen name: the served one answers, another is the server's 404.
        var text = ""
        for try await e in source.chat([ChatMessage(role: "user", content: "What is 12 + 34?")], params: SamplingParams(temperature: 0, maxTokens: 200)) {
            if case let .delta(t, _, _, _) = e { text += t }
        }
        #expect(text == "The answer is 46.")
        _ = try source.switchModel("not-served")
        do {
            for try await _ in source.chat([ChatMessage(role: "user", content: "hi")], params: SamplingParams(temperature: 0, maxTokens: 4)) {}
            Issue.record("a model the server does not serve was answered")
        } catch let e as RemoteError {
            guard case .status(404, let message) = e else { Issue.record("not a 404: \(e)"); return }
            #expect(message.contains("not-served"), "\(message)")
        }
    }

    @Test func serverKindOverridesDetection() async throws {
        let server = try LoopbackServer(["--model", "tiny-ring", "--kv-cache-tokens", "2048"])
        // Told it is vLLM, the source reads /metrics under vLLM's names and never opens /v1/events.
        let forced = try RemoteSource(url: server.base, apiKey: nil, kind: .vllm, chat: false, model: nil)
        defer { forced.close() }
        let detected = try RemoteSource(url: server.base, apiKey: nil, kind: nil, chat: false, model: nil)
        defer { detected.close() }
        let up = try await RemoteSourceTests.eventually {
            forced.server != nil && detected.status?.contains("Ringside at") == true && detected.shape.experts > 0 ? true : nil
        }
        #expect(up == true, "\(forced.status ?? "") / \(detected.status ?? "")")
        #expect(forced.status?.hasPrefix("vLLM at \(server.base)") == true, "\(forced.status ?? "")")
        let view = try #require(forced.server)
        #expect(view.kind == "vLLM")
        #expect(view.running == nil, "a Ringside server has no vllm:num_requests_running")
        #expect(detected.server == nil, "detected as Ringside, its panes read events")
        // A request's batches reach the detected source's events; the forced one reads none.
        #expect(try await SlowReaderTests.complete(server.base, tokens: 8, seed: 1) == 8)
        let seen = try await RemoteSourceTests.eventually(30) { () -> Bool? in
            detected.poll().contains { $0.kind == .begin && $0.span == .decode } ? true : nil
        }
        #expect(seen == true, "the detected source never saw a decode batch")
        #expect(forced.poll().isEmpty)
        #expect(forced.shape.experts == 0, "no events header read")
    }

    /// `--server-kind` takes the kinds' names and refuses others by listing them.
    @Test func serverKindFlag() throws {
        func run(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: LoopbackServer.binary)
            p.arguments = args
            let out = NSTemporaryDirectory() + "ringside-kind-\(UUID().uuidString).txt"
            FileManager.default.createFile(atPath: out, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: out) }
            let h = FileHandle(forWritingAtPath: out)!
            p.standardOutput = h
            p.standardError = h
            p.standardInput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            try h.close()
            return (p.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
        }
        let (bad, badOut) = try run(["top", "--server-kind", "tgi", "http://127.0.0.1:9"])
        #expect(bad != 0)
        #expect(badOut.contains("tgi") && badOut.contains("sglang-jax") && badOut.contains("llama.cpp"), "\(badOut)")
        for kind in ServerKind.allCases where kind != .unknown {
            // Accepted; then refused only because there is no terminal here.
            let (code, out) = try run(["top", "--server-kind", kind.rawValue, "http://127.0.0.1:9"])
            #expect(code != 0 && out.contains("needs a terminal"), "\(kind.rawValue): \(out)")
            let (chatCode, chatOut) = try run(["chat", "--attach", "http://127.0.0.1:9", "--server-kind", kind.rawValue])
            #expect(chatCode != 0 && chatOut.contains("needs a terminal"), "\(kind.rawValue): \(chatOut)")
        }
    }
}
