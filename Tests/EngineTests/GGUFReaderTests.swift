import Engine
import Foundation
import Testing

/// Builds small GGUF files byte by byte, so each test can break exactly one thing.
struct GGUFBuilder {
    var version: UInt32 = 3
    var tensorCountOverride: UInt64?
    var kvs: [(String, [UInt8])] = []  // key, (type + value) bytes
    var tensors: [(name: String, dims: [UInt64], type: UInt32, offset: UInt64)] = []
    var data: [UInt8] = []
    /// llama.cpp's vocabulary-only files end right after the header, unpadded.
    var padHeader = true

    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func u64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func str(_ s: String) -> [UInt8] { u64(UInt64(s.utf8.count)) + Array(s.utf8) }

    mutating func add(_ key: String, u32 v: UInt32) { kvs.append((key, Self.u32(4) + Self.u32(v))) }
    mutating func add(_ key: String, string v: String) { kvs.append((key, Self.u32(8) + Self.str(v))) }
    mutating func add(_ key: String, strings: [String]) {
        kvs.append((key, Self.u32(9) + Self.u32(8) + Self.u64(UInt64(strings.count)) + strings.flatMap(Self.str)))
    }

    /// A valid file: two F32 tensors, "a" [4] = 0,1,2,3 and "b" [2,2] = 10..13.
    static func valid() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.add("general.architecture", string: "llama")
        b.add("test.count", u32: 7)
        b.add("tokenizer.ggml.tokens", strings: ["<s>", "hé", "🙂"])
        b.tensors = [("a", [4], 0, 0), ("b", [2, 2], 0, 32)]
        b.data = (0 ..< 4).flatMap { withUnsafeBytes(of: Float($0)) { Array($0) } } + [UInt8](repeating: 0, count: 16)
            + (10 ..< 14).flatMap { withUnsafeBytes(of: Float($0)) { Array($0) } }
        return b
    }

    func bytes() -> [UInt8] {
        var out = Array("GGUF".utf8) + Self.u32(version)
        out += Self.u64(tensorCountOverride ?? UInt64(tensors.count)) + Self.u64(UInt64(kvs.count))
        for (k, v) in kvs { out += Self.str(k) + v }
        for t in tensors {
            out += Self.str(t.name) + Self.u32(UInt32(t.dims.count)) + t.dims.flatMap(Self.u64) + Self.u32(t.type) + Self.u64(t.offset)
        }
        while padHeader && out.count % 32 != 0 { out.append(0) }
        return out + data
    }
}

@Suite("GGUF reader")
struct GGUFReaderTests {
    static func write(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "ringside-gguf-\(UUID().uuidString).gguf"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func parse(_ bytes: [UInt8]) throws(ModelFileError) -> GGUFFile {
        let path = try! write(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)
    }

    @Test func validFileReadsBack() throws {
        let f = try Self.parse(GGUFBuilder.valid().bytes())
        #expect(f.version == 3)
        #expect(try f.string("general.architecture") == "llama")
        #expect(try f.int("test.count") == 7)
        #expect(try f.stringArray("tokenizer.ggml.tokens") == ["<s>", "hé", "🙂"])
        #expect(f.tensorNames == ["a", "b"])
        let b = try f.tensor("b")
        #expect(b.shape == [2, 2] && b.type == .f32 && b.byteCount == 16)
        let values = (0 ..< 4).map { f.tensorData(b).load(fromByteOffset: $0 * 4, as: Float.self) }
        #expect(values == [10, 11, 12, 13])
        #expect(throws: ModelFileError.missingKey(path: f.path, key: "nope")) { try f.string("nope") }
        #expect(throws: ModelFileError.wrongKeyType(path: f.path, key: "test.count", expected: "a string")) { try f.string("test.count") }
    }

    @Test func vocabularyOnlyFileWithoutPaddingLoads() throws {
        var b = GGUFBuilder()
        b.add("tokenizer.ggml.model", string: "gpt2")
        b.add("tokenizer.ggml.tokens", strings: ["a", "b", "ab"])
        b.padHeader = false
        let bytes = b.bytes()
        #expect(bytes.count % 32 != 0, "the header must end off the alignment for this test to mean anything")
        let f = try Self.parse(bytes)
        #expect(f.tensorNames.isEmpty && f.dataOffset == bytes.count)
        #expect(try f.stringArray("tokenizer.ggml.tokens") == ["a", "b", "ab"])
        // With a tensor, the same missing padding is still truncation.
        var t = GGUFBuilder.valid()
        t.padHeader = false
        t.data = []
        #expect(throws: ModelFileError.self) { try Self.parse(t.bytes()) }
    }

    @Test func everyTruncationIsATypedError() throws {
        let full = GGUFBuilder.valid().bytes()
        for n in 0 ..< full.count {
            do {
                _ = try Self.parse(Array(full.prefix(n)))
                Issue.record("a file cut to \(n) of \(full.count) bytes parsed")
            } catch {
                switch error {
                case .truncated, .tensorOutOfRange: break
                default: Issue.record("cut to \(n): unexpected \(error)")
                }
            }
        }
    }

    @Test func corruptions() throws {
        func expectError(_ b: [UInt8], _ match: (ModelFileError) -> Bool, _ what: String) {
            do {
                _ = try Self.parse(b)
                Issue.record("\(what): parsed")
            } catch {
                #expect(match(error), "\(what): got \(error)")
            }
        }
        var bytes = GGUFBuilder.valid().bytes()
        bytes[0] = UInt8(ascii: "X")
        expectError(bytes, { if case .badMagic = $0 { true } else { false } }, "bad magic")

        var b = GGUFBuilder.valid()
        b.version = 9
        expectError(b.bytes(), { if case .unsupportedVersion(_, 9) = $0 { true } else { false } }, "version")

        b = GGUFBuilder.valid()
        b.tensorCountOverride = 1 << 60
        expectError(b.bytes(), { if case .absurdCount = $0 { true } else { false } }, "tensor count")

        b = GGUFBuilder.valid()
        b.kvs.append(("huge", GGUFBuilder.u32(9) + GGUFBuilder.u32(4) + GGUFBuilder.u64(1 << 50)))
        expectError(b.bytes(), { if case .absurdCount = $0 { true } else { false } }, "array length")

        b = GGUFBuilder.valid()
        b.kvs.append(("weird", GGUFBuilder.u32(42) + GGUFBuilder.u32(0)))
        expectError(b.bytes(), { if case .badValueType(_, "weird", 42) = $0 { true } else { false } }, "value type")

        b = GGUFBuilder.valid()
        b.kvs.append(("bad", GGUFBuilder.u32(8) + GGUFBuilder.u64(2) + [0xC3, 0x28]))
        expectError(b.bytes(), { if case .invalidString = $0 { true } else { false } }, "invalid UTF-8")

        b = GGUFBuilder.valid()
        b.tensors[1].type = 99
        expectError(b.bytes(), { if case .unknownTensorType(_, "b", 99) = $0 { true } else { false } }, "tensor type")

        b = GGUFBuilder.valid()
        b.tensors[1].offset = 4096
        expectError(b.bytes(), { if case .tensorOutOfRange(_, "b") = $0 { true } else { false } }, "offset past end")

        b = GGUFBuilder.valid()
        b.tensors[1].offset = 8
        expectError(b.bytes(), { if case .misalignedTensor(_, "b", 8) = $0 { true } else { false } }, "misaligned")

        b = GGUFBuilder.valid()
        b.tensors[1].dims = [1, 1, 1, 1, 1]
        expectError(b.bytes(), { if case .badShape = $0 { true } else { false } }, "five dimensions")

        b = GGUFBuilder.valid()
        b.tensors[1].dims = [1 << 30, 1 << 30]
        expectError(b.bytes(), { if case .badShape = $0 { true } else { false } }, "absurd shape")

        b = GGUFBuilder.valid()
        b.tensors[1].type = 2  // Q4_0: a row of 2 is not a whole block of 32
        expectError(b.bytes(), { if case .badShape = $0 { true } else { false } }, "partial block")

        b = GGUFBuilder.valid()
        b.tensors.append(("a", [4], 0, 0))
        expectError(b.bytes(), { if case .duplicate(_, "a") = $0 { true } else { false } }, "duplicate tensor")

        expectError([], { if case .truncated = $0 { true } else { false } }, "empty file")
    }

    @Test func missingFileAndUnknownArchitecture() throws {
        #expect(throws: ModelFileError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        var b = GGUFBuilder.valid()
        b.kvs[0] = ("general.architecture", GGUFBuilder.u32(8) + GGUFBuilder.str("mamba9"))
        let f = try Self.parse(b.bytes())
        #expect(throws: ModelFileError.unknownArchitecture(path: f.path, architecture: "mamba9", known: ["bailingmoe2", "gemma3", "llama", "qwen3", "qwen3moe"])) {
            try ModelRegistry.load(gguf: f)
        }
    }

    @Test("the SmolLM2 file reads as MODELS.md 1 describes it")
    func smolLayout() throws {
        let f = try TestModels.smol.get()
        #expect(f.version == 3 && f.tensors.count == 272 && f.metadata.count == 33 && f.dataOffset == 1_785_664)
        #expect(try f.string("tokenizer.ggml.pre") == "smollm")
        #expect(try f.stringArray("tokenizer.ggml.tokens").count == 49152)
        #expect(try f.stringArray("tokenizer.ggml.merges").count == 48900)
        let types = Dictionary(grouping: f.tensors.values, by: { $0.type.name }).mapValues(\.count)
        #expect(types == ["Q8_0": 1, "Q4_1": 210, "F32": 61])
        let last = f.tensors.values.max { $0.offset < $1.offset }!
        #expect(last.name == "output_norm.weight" && last.offset + last.byteCount == 98_362_432)
    }
}
