import Engine
import Foundation
import Testing

/// Damaged `.safetensors` files and shard indexes: each is refused with an error that names
/// the file and the problem, never a crash and never a model that loads wrong.
@Suite("safetensors headers and shard indexes")
struct SafetensorsHeaderTests {
    /// A fresh folder per test, removed afterwards.
    final class Folder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-st-\(UUID().uuidString)").path
        init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// Writes a file: the u64 header length, the header bytes, then `dataBytes` bytes.
        @discardableResult
        func file(_ name: String, header: String, dataBytes: Int, headerLength: UInt64? = nil) -> String {
            let h = Data(header.utf8)
            var d = Data()
            withUnsafeBytes(of: (headerLength ?? UInt64(h.count)).littleEndian) { d.append(contentsOf: $0) }
            d.append(h)
            d.append(Data((0 ..< dataBytes).map { UInt8($0 & 0xFF) }))
            let p = path + "/" + name
            _ = FileManager.default.createFile(atPath: p, contents: d)
            return p
        }

        func raw(_ name: String, _ bytes: [UInt8]) -> String {
            let p = path + "/" + name
            _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
            return p
        }
    }

    /// The error `SafetensorsFile` throws for `path`, or a recorded issue if it loads.
    static func error(_ path: String) -> ModelFileError? {
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("\(path) loaded")
            return nil
        } catch {
            #expect("\(error)".hasPrefix(path), "the message names the file: \(error)")
            return error
        }
    }

    static func tensor(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": [\(begin), \(end)]}"
    }

    @Test func aValidFileLoads() throws {
        let f = Folder()
        let p = f.file("ok.safetensors", header: "{\"__metadata__\": {\"format\": \"pt\"}, " + Self.tensor("a", "F32", [2, 3], 0, 24)
            + ", " + Self.tensor("b", "BF16", [4], 24, 32) + "}  ", dataBytes: 32)
        let st = try SafetensorsFile(path: p)
        let a = try #require(st.tensors["a"])
        #expect(a.name == "a" && a.dtype == "F32" && a.shape == [2, 3] && a.begin == 0 && a.end == 24)
        #expect(st.tensors["b"]?.shape == [4] && st.metadata["format"] == "pt")
    }

    @Test func lengthAndJSONProblems() {
        let f = Folder()
        #expect(Self.error(f.raw("empty.safetensors", [])) != nil)
        if case .truncated = Self.error(f.raw("short.safetensors", [1, 0, 0])) {} else { Issue.record("short file") }
        let huge = f.file("huge.safetensors", header: "{}", dataBytes: 0, headerLength: 1 << 40)
        if case .absurdCount = Self.error(huge) {} else { Issue.record("header length past the end") }
        let pastEnd = f.file("past.safetensors", header: "{}", dataBytes: 0, headerLength: 3)
        if case .absurdCount = Self.error(pastEnd) {} else { Issue.record("header length one past the end") }
        for (name, header) in [("bad-json", "{\"a\": {\"dtype\": \"F32\", "), ("array", "[1, 2, 3]"), ("binary", "\u{1}\u{2}\u{3}")] {
            guard case let .badHeader(_, reason)? = Self.error(f.file("\(name).safetensors", header: header, dataBytes: 8)) else {
                Issue.record("\(name)")
                continue
            }
            #expect(reason.contains("JSON"), "\(reason)")
        }
    }

    @Test func tensorEntryProblems() {
        let f = Folder()
        let cases: [(String, String, (ModelFileError) -> Bool)] = [
            ("no dtype", "{\"a\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", { if case .badHeader = $0 { true } else { false } }),
            ("offsets not numbers", "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [\"0\", \"8\"]}}",
             { if case .badHeader = $0 { true } else { false } }),
            ("three offsets", "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4, 8]}}",
             { if case .badHeader = $0 { true } else { false } }),
            ("fractional shape", "{\"a\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}",
             { if case .badHeader = $0 { true } else { false } }),
            ("unknown dtype", "{" + Self.tensor("a", "F13", [2], 0, 8) + "}",
             { if case .unsupportedTensorType(_, "a", "F13") = $0 { true } else { false } }),
            ("negative dimension", "{" + Self.tensor("a", "F32", [-2], 0, 8) + "}",
             { if case .badShape(_, "a", _) = $0 { true } else { false } }),
            ("offsets out of order", "{" + Self.tensor("a", "F32", [1], 8, 4) + "}",
             { if case .tensorOutOfRange(_, "a") = $0 { true } else { false } }),
            ("negative offset", "{" + Self.tensor("a", "F32", [1], -4, 0) + "}",
             { if case .tensorOutOfRange(_, "a") = $0 { true } else { false } }),
            ("past the end", "{" + Self.tensor("a", "F32", [4], 8, 24) + "}",
             { if case .tensorOutOfRange(_, "a") = $0 { true } else { false } }),
            ("shape product overflows", "{" + Self.tensor("a", "F32", [1 << 39, 1 << 39], 0, 16) + "}",
             { if case .tensorOutOfRange(_, "a") = $0 { true } else { false } }),
            // The element count fits an Int; its byte count does not.
            ("byte count overflows", "{" + Self.tensor("a", "F64", [1 << 31, 1 << 31], 0, 16) + "}",
             { if case .tensorOutOfRange(_, "a") = $0 { true } else { false } }),
            ("shape larger than its bytes", "{" + Self.tensor("a", "F32", [5], 0, 16) + "}",
             { if case let .badShape(_, "a", r) = $0 { r.contains("20 bytes") && r.contains("16") } else { false } }),
            ("dtype smaller than its bytes", "{" + Self.tensor("a", "F16", [4], 0, 16) + "}",
             { if case .badShape(_, "a", _) = $0 { true } else { false } }),
            ("overlapping tensors", "{" + Self.tensor("a", "F32", [3], 0, 12) + ", " + Self.tensor("b", "F32", [2], 8, 16) + "}",
             { if case let .badHeader(_, r) = $0 { r.contains("'a'") && r.contains("'b'") && r.contains("overlap") } else { false } }),
            ("one tensor inside another", "{" + Self.tensor("a", "F32", [4], 0, 16) + ", " + Self.tensor("b", "F16", [2], 4, 8) + "}",
             { if case let .badHeader(_, r) = $0 { r.contains("overlap") } else { false } }),
        ]
        for (i, (name, header, matches)) in cases.enumerated() {
            guard let e = Self.error(f.file("case\(i).safetensors", header: header, dataBytes: 16)) else { continue }
            #expect(matches(e), "\(name): \(e)")
        }
        // Touching ranges and empty tensors are fine.
        let ok = f.file("touching.safetensors", header: "{" + Self.tensor("a", "F32", [2], 0, 8) + ", "
            + Self.tensor("e", "F32", [0], 8, 8) + ", " + Self.tensor("b", "F32", [2], 8, 16) + "}", dataBytes: 16)
        #expect(throws: Never.self) { try SafetensorsFile(path: ok) }
    }

    /// Two shards and their index, as `save_pretrained` writes them.
    static func sharded(_ f: Folder, index: [String: String]) {
        f.file("model-00001-of-00002.safetensors", header: "{" + Self.tensor("a", "F32", [2], 0, 8) + "}", dataBytes: 8)
        f.file("model-00002-of-00002.safetensors", header: "{" + Self.tensor("b", "F32", [2], 0, 8) + "}", dataBytes: 8)
        let obj: [String: Any] = ["metadata": ["total_size": 16], "weight_map": index]
        _ = FileManager.default.createFile(atPath: f.path + "/model.safetensors.index.json",
                                       contents: try! JSONSerialization.data(withJSONObject: obj))
    }

    static func modelError(_ dir: String) -> String {
        do {
            _ = try SafetensorsModel(directory: dir)
            Issue.record("\(dir) loaded")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func shardIndexes() throws {
        let good = Folder()
        Self.sharded(good, index: ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"])
        let m = try SafetensorsModel(directory: good.path)
        #expect(m.tensorNames == ["a", "b"] && m.parameterCount == 4)
        #expect(try m.tensor("b").1.shape == [2])

        let missingShard = Folder()
        Self.sharded(missingShard, index: ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
                                           "c": "model-00003-of-00003.safetensors"])
        let e1 = Self.modelError(missingShard.path)
        #expect(e1.contains("model-00003-of-00003.safetensors") && e1.contains("No such file"), "\(e1)")

        let absent = Folder()
        Self.sharded(absent, index: ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
                                     "c": "model-00002-of-00002.safetensors"])
        let e2 = Self.modelError(absent.path)
        #expect(e2.contains("'c'") && e2.contains("model-00002-of-00002.safetensors") && e2.contains("index.json"), "\(e2)")

        let wrongShard = Folder()
        Self.sharded(wrongShard, index: ["a": "model-00002-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"])
        let e3 = Self.modelError(wrongShard.path)
        #expect(e3.contains("'a'"), "\(e3)")

        let outside = Folder()
        Self.sharded(outside, index: ["a": "../model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"])
        #expect(Self.modelError(outside.path).contains("../model-00001"))

        let noMap = Folder()
        Self.sharded(noMap, index: [:])
        _ = FileManager.default.createFile(atPath: noMap.path + "/model.safetensors.index.json", contents: Data("{\"metadata\": {}".utf8))
        #expect(Self.modelError(noMap.path).contains("weight_map"))

        let duplicated = Folder()
        Self.sharded(duplicated, index: ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"])
        duplicated.file("model-00002-of-00002.safetensors", header: "{" + Self.tensor("a", "F32", [2], 0, 8) + ", "
            + Self.tensor("b", "F32", [2], 8, 16) + "}", dataBytes: 16)
        #expect(Self.modelError(duplicated.path).contains("'a' appears twice"))

        let empty = Folder()
        #expect(Self.modelError(empty.path).contains("no .safetensors files"))
    }
}
