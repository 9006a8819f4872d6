import Foundation
import Testing
@testable import Jinja

/// One rendering recorded by `tools/render_templates.py` from Python jinja2.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        case output(String)
        case error(kind: String, message: String, line: Int?)
    }

    let name: String
    let template: String
    let source: String
    let context: [String: JinjaValue]
    /// Plain role/content messages: also rendered through `render(messages:...)`.
    let simple: Bool
    let outcome: Outcome

    var testDescription: String { name }
}

enum GoldenFixture {
    static let loaded: (templates: [String: String], cases: [GoldenCase])? = try? load()

    static var cases: [GoldenCase] { loaded?.cases ?? [] }
    static var templates: [String: String] { loaded?.templates ?? [:] }

    static func load() throws -> (templates: [String: String], cases: [GoldenCase]) {
        guard let url = Bundle.module.url(forResource: "golden", withExtension: "json", subdirectory: "Fixtures") else {
            throw ChatTemplateError.invalidJSON("golden.json missing from the test bundle")
        }
        // Our own parser, not JSONSerialization: tojson output depends on key order.
        let root = try JinjaValue(json: String(decoding: try Data(contentsOf: url), as: UTF8.self))
        guard case .object(let templateMap)? = root["templates"], case .array(let rawCases)? = root["cases"] else {
            throw ChatTemplateError.invalidJSON("golden.json has no templates/cases")
        }
        var templates: [String: String] = [:]
        for (name, source) in templateMap.entries { templates[name] = source.stringValue }
        let cases = try rawCases.map { raw -> GoldenCase in
            guard let name = raw["name"]?.stringValue, let template = raw["template"]?.stringValue,
                  case .object(let context)? = raw["context"] else {
                throw ChatTemplateError.invalidJSON("malformed case")
            }
            let outcome: GoldenCase.Outcome
            if let expected = raw["expected"]?.stringValue {
                outcome = .output(expected)
            } else if let error = raw["error"], let kind = error["kind"]?.stringValue {
                var line: Int?
                if case .int(let l)? = error["line"] { line = l }
                outcome = .error(kind: kind, message: error["message"]?.stringValue ?? "", line: line)
            } else {
                throw ChatTemplateError.invalidJSON("case \(name) has neither expected nor error")
            }
            var variables: [String: JinjaValue] = [:]
            for (key, value) in context.entries { variables[key] = value }
            return GoldenCase(name: name, template: template,
                              source: raw["source"]?.stringValue ?? templates[template] ?? "",
                              context: variables, simple: raw["simple"] == .bool(true), outcome: outcome)
        }
        return (templates, cases)
    }
}
