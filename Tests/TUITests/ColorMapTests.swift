import Testing
@testable import TUI

/// Expected indices worked out by hand from the xterm palette (cube levels 0,95,135,175,215,255;
/// grey ramp 8,18,…,238) and the 16 standard colours.
@Suite("colour mapping")
struct ColorMapTests {
    @Test func truecolorTo256() {
        #expect(ColorMap.xterm256(RGB(255, 0, 0)) == 196)  // 16 + 36*5
        #expect(ColorMap.xterm256(RGB(0, 0, 0)) == 16)  // cube black beats grey 8
        #expect(ColorMap.xterm256(RGB(255, 255, 255)) == 231)
        #expect(ColorMap.xterm256(RGB(0x80, 0x80, 0x80)) == 244)  // grey 128: ramp 232+12
        #expect(ColorMap.xterm256(RGB(0x5F, 0x87, 0xAF)) == 67)  // exactly 16 + 36*1 + 6*2 + 3
        #expect(ColorMap.xterm256(RGB(40, 40, 40)) == 235)  // grey 38 (232+3), nearer than cube 0
        #expect(ColorMap.xterm256(RGB(0xD0, 0x87, 0x70)) == 173)  // r→215(4) g→135(2) b→95(1): 16+144+12+1
        #expect(ColorMap.xterm256(RGB(0x16, 0x18, 0x1D)) == 234)  // avg 25 → ramp 28
        // Every palette colour maps back to itself (cube and ramp never coincide exactly).
        for i in 16 ..< 256 { #expect(ColorMap.xterm256(ColorMap.rgb(xterm256: i)) == i) }
    }

    @Test func truecolorTo16() {
        #expect(ColorMap.index(RGB(255, 0, 0), depth: .ansi16) == 9)
        #expect(ColorMap.index(RGB(0, 0, 0), depth: .ansi16) == 0)
        #expect(ColorMap.index(RGB(255, 255, 255), depth: .ansi16) == 15)
        #expect(ColorMap.index(RGB(0x80, 0x80, 0x80), depth: .ansi16) == 8)  // 7F7F7F: distance 3
        #expect(ColorMap.index(RGB(0xC0, 0xC0, 0xC0), depth: .ansi16) == 7)  // E5E5E5: 3*37² < 3*65²
        #expect(ColorMap.index(RGB(0, 0, 0x80), depth: .ansi16) == 4)  // 0000EE: 110² < 128² (black)
        #expect(ColorMap.index(RGB(0x88, 0xC0, 0xD0), depth: .ansi16) == 7)  // nord cyan: E5E5E5 is nearest
        // 8-colour terminals never get the bright half.
        #expect(ColorMap.index(RGB(255, 0, 0), depth: .ansi8) == 1)
        #expect(ColorMap.index(RGB(255, 255, 255), depth: .ansi8) == 7)
        #expect(ColorMap.index(RGB(1, 2, 3), depth: .none) == nil)
    }

    @Test func depthFromTerminalAndEnvironment() {
        #expect(ColorDepth.detect(colors: 256, environment: [:]) == .xterm256)
        #expect(ColorDepth.detect(colors: 256, environment: ["COLORTERM": "truecolor"]) == .truecolor)
        #expect(ColorDepth.detect(colors: 16, environment: ["COLORTERM": "truecolor"]) == .ansi16)
        #expect(ColorDepth.detect(colors: 8, environment: [:]) == .ansi8)
        #expect(ColorDepth.detect(colors: 2, environment: [:]) == .none)
        #expect(ColorDepth.detect(colors: 256, environment: ["NO_COLOR": "1"]) == .none)
        #expect(ColorDepth.detect(colors: 256, environment: ["NO_COLOR": ""]) == .xterm256)  // no-color.org: non-empty only
    }
}
