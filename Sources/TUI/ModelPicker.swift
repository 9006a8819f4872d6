import Engine
import Foundation

/// A value handed from a background thread to the UI thread.
final class Handoff<T>: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var value: T?

    func set(_ v: T) {
        lock.lock()
        value = v
        lock.unlock()
    }

    func take() -> T? {
        lock.lock()
        defer {
            value = nil
            lock.unlock()
        }
        return value
    }
}

/// The model switcher: the catalog (pulled or not), then models recently opened by path.
struct ModelPicker {
    struct Row { let name: String; let note: String }

    var rows: [Row]
    var index = 0
    var loading = false
    var message = "Enter loads · Esc closes · the current model keeps serving until the new one is ready"
    let result = Handoff<Result<any CockpitSource, any Error>>()

    init(catalog: ModelCatalog = ModelCatalog(), recent: [String] = RecentModels().list(), current: String? = nil) {
        rows = ModelCatalog.entries.map { e in
            Row(name: e.name, note: e.bundled != nil ? "bundled" : catalog.isInstalled(e) ? "installed" : "not pulled")
        }
        rows += recent.map { Row(name: $0, note: "recent path") }
        // The current model, named as a catalog entry or as a path (relative at the command line).
        if let current {
            let absolute = URL(fileURLWithPath: current).standardizedFileURL.path
            if let i = rows.firstIndex(where: { $0.name == current || $0.name == absolute }) { index = i }
        }
    }

    /// A server's models (`GET /v1/models`): choosing one only changes what the chat asks for.
    init(models: [String], current: String?) {
        rows = models.map { Row(name: $0, note: "served") }
        message = "Enter chooses · Esc closes"
        if let current, let i = models.firstIndex(of: current) { index = i }
    }

    var selected: String? { rows.indices.contains(index) ? rows[index].name : nil }

    mutating func move(_ d: Int) {
        guard !loading, !rows.isEmpty else { return }
        index = (index + d + rows.count) % rows.count
    }

    func render(into buf: inout ScreenBuffer, theme: Theme) {
        let p = PaneStyle(theme)
        let w = min(buf.width - 4, 76), h = min(buf.height - 2, rows.count + 5)
        guard w > 20, h > 4 else { return }
        let r = Rect(x: (buf.width - w) / 2, y: (buf.height - h) / 2, width: w, height: h)
        buf.fill(x: r.x, y: r.y, width: r.width, height: r.height, style: p.base)
        buf.box(r, title: "switch model", style: p.fg("div_line"), titleStyle: p.fg("title", bold: true))
        for (i, row) in rows.enumerated() where i < h - 4 {
            var st = i == index ? p.fg("hi_fg", bold: true) : p.base
            if i == index { st.bg = theme["selected_bg"] }
            // A long path keeps its end, which names the model.
            let room = max(8, w - 4 - 2 - 13)
            let name = row.name.count > room ? "…" + row.name.suffix(room - 1) : row.name
            let line = (i == index ? "› " : "  ") + name.padding(toLength: max(26, name.count + 1), withPad: " ", startingAt: 0) + row.note
            buf.put(line, x: r.x + 2, y: r.y + 1 + i, style: st, maxWidth: w - 4)
        }
        buf.put(message, x: r.x + 2, y: r.y + h - 2, style: loading ? p.fg("hi_fg") : p.dim, maxWidth: w - 4)
    }
}
