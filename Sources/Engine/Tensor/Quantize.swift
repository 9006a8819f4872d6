/// Quantize-on-load: bf16/f16/f32 checkpoints turned into ggml's Q8_0 or Q4_0 blocks, rounding
/// exactly as ggml's reference quantizers do, so a 16 B bf16 model fits in 24 GiB.
public enum LoadQuantization: String, Sendable, CaseIterable {
    case q8_0, q4_0

    var type: GGMLType { self == .q8_0 ? .q8_0 : .q4_0 }

    /// Quantizes one row of `n` floats (n a multiple of 32) into `out`.
    static func quantize(_ x: UnsafePointer<Float>, n: Int, into out: UnsafeMutableRawPointer, as q: LoadQuantization) {
        for b in 0 ..< n / 32 {
            let v = x + b * 32
            switch q {
            case .q8_0:
                // d = amax / 127; q = round(x / d). Block: f16 d, 32 x i8.
                var amax: Float = 0
                for i in 0 ..< 32 { amax = max(amax, abs(v[i])) }
                let d = amax / 127, id: Float = d != 0 ? 1 / d : 0
                let blk = out + b * 34
                blk.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
                for i in 0 ..< 32 { blk.storeBytes(of: Int8(clamping: Int((v[i] * id).rounded())), toByteOffset: 2 + i, as: Int8.self) }
            case .q4_0:
                // d = (the value of largest magnitude) / -8; nibble = min(15, int(x / d + 8.5)),
                // values j and j + 16 share byte j. Block: f16 d, 16 bytes.
                var amax: Float = 0, mx: Float = 0
                for i in 0 ..< 32 where abs(v[i]) > amax { amax = abs(v[i]); mx = v[i] }
                let d = mx / -8, id: Float = d != 0 ? 1 / d : 0
                let blk = out + b * 18
                blk.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
                for j in 0 ..< 16 {
                    let a = min(15, Int8(truncatingIfNeeded: Int(v[j] * id + 8.5)))
                    let c = min(15, Int8(truncatingIfNeeded: Int(v[j + 16] * id + 8.5)))
                    blk.storeBytes(of: UInt8(a) | UInt8(c) << 4, toByteOffset: 2 + j, as: UInt8.self)
                }
            }
        }
    }

    /// A quantized copy of `m` (which must have a multiple of 32 columns), kept alive by `keep`.
    static func quantize(_ m: WeightMatrix, as q: LoadQuantization, keep: (FloatBuffer) -> Void) -> WeightMatrix {
        let rowBytes = q.type.byteCount(values: m.cols)!
        let storage = FloatBuffer(count: (m.rows * rowBytes + 3) / 4)
        keep(storage)
        let row = FloatBuffer(count: m.cols)
        let base = UnsafeMutableRawPointer(storage.pointer)
        for r in 0 ..< m.rows {
            m.dequantizeRow(r, into: row.pointer)
            quantize(row.pointer, n: m.cols, into: base + r * rowBytes, as: q)
        }
        return WeightMatrix(type: q.type, data: base, rows: m.rows, cols: m.cols)
    }
}
