import Foundation
import Testing
@testable import Server

/// The request parser must agree with Foundation's on what is valid JSON and what it means,
/// and refuse what is not JSON with a message rather than a crash.
struct JSONTests {
    @Test func parsesWhatFoundationParses() throws {
        let text = #"{"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d\u00e9\n\"\ud83d\ude00"}, "e": ""}"#
        let ours = try JSON.parse(Array(text.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(ours["a"] == [1, -2, .double(3.5), .double(1000), true, false, nil])
        #expect(ours["b"]?["c"] == .string((theirs["b"] as! [String: Any])["c"] as! String))
        #expect(ours["e"] == "")
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\\x\"", "\"\u{01}\"", "[1] 2",
                      "\"\\ud800\"", String(repeating: "[", count: 100) + String(repeating: "]", count: 100)])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(Array(text.utf8)) }
    }

    @Test func writesWhatFoundationReadsBack() throws {
        let value: JSON = ["s": "tab\tquote\"slash\\ctl\u{07}é😀", "n": nil, "i": -3, "d": 0.25, "l": [true, false]]
        let back = try JSONSerialization.jsonObject(with: Data(value.text.utf8)) as! [String: Any]
        #expect(back["s"] as? String == "tab\tquote\"slash\\ctl\u{07}é😀")
        #expect(back["n"] is NSNull)
        #expect(back["i"] as? Int == -3)
        #expect(back["d"] as? Double == 0.25)
        // Keys keep their order: OpenAI's shapes read top to bottom.
        #expect(value.text.hasPrefix(#"{"s":"#) && value.text.contains(#","n":null,"i":-3,"#))
    }
}

struct PrometheusTextTests {
    @Test func histogramBucketsAreCumulative() {
        var h = Histogram([0.1, 1])
        h.observe(0.0625)
        h.observe(0.5, times: 2)
        h.observe(4)
        var p = PrometheusText()
        p.histogram("ringside:x_seconds", "help", h)
        #expect(p.text == """
        # HELP ringside:x_seconds help
        # TYPE ringside:x_seconds histogram
        ringside:x_seconds_bucket{le="0.1"} 1.0
        ringside:x_seconds_bucket{le="1.0"} 3.0
        ringside:x_seconds_bucket{le="+Inf"} 4.0
        ringside:x_seconds_sum 5.0625
        ringside:x_seconds_count 4.0

        """)
    }

    @Test func labelValuesAreEscaped() {
        var p = PrometheusText()
        p.sample("m", [("l", "a\"b\\c\nd")], 1)
        #expect(p.text == "m{l=\"a\\\"b\\\\c\\nd\"} 1.0\n")
    }
}
