import Engine
import Testing
@testable import TUI

@Suite("model picker")
struct ModelPickerTests {
    @Test func listsTheCatalogThenRecentPathsAndStartsOnTheCurrentModel() {
        let long = "/data/models/" + String(repeating: "x", count: 80) + "/Ling-mini-2.0"
        let p = ModelPicker(recent: ["/data/Ring-mini-2.0", long], current: "/data/Ring-mini-2.0")
        #expect(p.rows.map(\.name) == ModelCatalog.entries.map(\.name) + ["/data/Ring-mini-2.0", long])
        #expect(p.selected == "/data/Ring-mini-2.0")
        var buf = ScreenBuffer(width: 80, height: 24)
        p.render(into: &buf, theme: .builtInDefault)
        let text = buf.lines.joined(separator: "\n")
        #expect(text.contains("› /data/Ring-mini-2.0"))
        // A path too long for the box keeps its end, the model's name.
        #expect(text.contains("…") && text.contains("/Ling-mini-2.0"))
    }
}
