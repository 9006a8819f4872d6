import Engine
import Foundation
import Testing

@Suite("recent models")
struct RecentModelsTests {
    /// A fresh folder with `count` model folders in it.
    static func sandbox(_ count: Int) throws -> (dir: String, models: [String]) {
        let dir = NSTemporaryDirectory() + "ringside-recent-\(UUID().uuidString)"
        let models = (0 ..< count).map { dir + "/model-\($0)" }
        for m in models { try FileManager.default.createDirectory(atPath: m, withIntermediateDirectories: true) }
        return (dir, models)
    }

    @Test func newestFirstWithoutDuplicatesAndCapped() throws {
        let (dir, models) = try Self.sandbox(10)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recent = RecentModels(file: dir + "/state/recent.json")
        #expect(recent.list().isEmpty)
        #expect(recent.add(models[0]) && recent.add(models[1]) && recent.add(models[0]))
        #expect(recent.list() == [models[0], models[1]])
        for m in models { recent.add(m) }
        #expect(recent.list() == Array(models.reversed().prefix(RecentModels.limit)))
    }

    @Test func pathsAreStoredAbsoluteAndCatalogNamesNotAtAll() throws {
        let (dir, models) = try Self.sandbox(1)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recent = RecentModels(file: dir + "/recent.json")
        recent.add(models[0] + "/../model-0/")
        recent.add(ModelCatalog.defaultModel)
        #expect(recent.list() == [models[0]])
    }

    /// Models deleted since are not offered; a damaged file is an empty list, and the next
    /// model opened rewrites it.
    @Test func vanishedModelsAndDamagedFilesAreSkipped() throws {
        let (dir, models) = try Self.sandbox(2)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recent = RecentModels(file: dir + "/recent.json")
        recent.add(models[0])
        recent.add(models[1])
        try FileManager.default.removeItem(atPath: models[1])
        #expect(recent.list() == [models[0]])
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: recent.file))
        #expect(recent.list().isEmpty)
        #expect(recent.add(models[0]))
        #expect(recent.list() == [models[0]])
    }
}
