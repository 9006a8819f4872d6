import Foundation

/// Rotary position embedding.
///
/// Two pairings exist and mixing them up produces fluent garbage (MODELS.md 3.2):
/// `.interleaved` rotates adjacent values (x[2i], x[2i+1]); llama.cpp calls it NORM and GGUF
/// llama files permute their Q/K rows for it. `.neox` rotates x[i] with x[i + n/2], as Hugging
/// Face's `rotate_half` does.
public struct RoPE: Sendable, Equatable {
    public enum Style: Sendable, Equatable { case interleaved, neox }

    public let style: Style
    /// Rotated dimensions per head (<= head dim; the rest pass through).
    public let dims: Int
    let invFreq: [Double]

    /// - Parameter scale: linear position scaling (positions are divided by it).
    public init(style: Style, dims: Int, base: Double, scale: Double = 1) {
        self.style = style
        self.dims = dims
        invFreq = (0 ..< dims / 2).map { pow(base, -Double(2 * $0) / Double(dims)) / scale }
    }

    /// Fills `table` with cos/sin for each position: `table[p * dims + 2i] = cos`, `+1 = sin`.
    /// Angles are taken in double precision so long contexts keep their accuracy.
    func fillTable(positions: UnsafePointer<Int32>, count: Int, table: UnsafeMutablePointer<Float>) {
        let half = dims / 2
        for t in 0 ..< count {
            let p = Double(positions[t])
            let row = table + t * dims
            for i in 0 ..< half {
                let a = p * invFreq[i]
                row[2 * i] = Float(cos(a))
                row[2 * i + 1] = Float(sin(a))
            }
        }
    }

    /// Rotates `heads` heads of `headDim` values for each of `count` tokens in place.
    func apply(_ x: UnsafeMutablePointer<Float>, ld: Int, count: Int, heads: Int, headDim: Int,
               table: UnsafePointer<Float>) {
        let half = dims / 2
        for t in 0 ..< count {
            let cs = table + t * dims
            for h in 0 ..< heads {
                let v = x + t * ld + h * headDim
                switch style {
                case .interleaved:
                    for i in 0 ..< half {
                        let c = cs[2 * i], s = cs[2 * i + 1]
                        let a = v[2 * i], b = v[2 * i + 1]
                        v[2 * i] = a * c - b * s
                        v[2 * i + 1] = a * s + b * c
                    }
                case .neox:
                    for i in 0 ..< half {
                        let c = cs[2 * i], s = cs[2 * i + 1]
                        let a = v[i], b = v[i + half]
                        v[i] = a * c - b * s
                        v[i + half] = a * s + b * c
                    }
                }
            }
        }
    }
}
