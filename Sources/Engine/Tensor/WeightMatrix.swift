import Kernels

/// A 2-D weight used in place in its stored format: `rows` rows of `cols` values.
///
/// This is `nn.Linear.weight[out][in]`: y = x W^T takes a row per output.
public struct WeightMatrix: @unchecked Sendable {
    // Points into a read-only map or an owned buffer that the model keeps alive.
    public let type: GGMLType
    public let data: UnsafeRawPointer
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    /// The blocks of every 16 rows are stored together for the integer kernels
    /// (`rs_repack_x16`): rows are not `rowBytes` apart, so only the kernels read them.
    public let interleaved: Bool

    public init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int, interleaved: Bool = false) {
        self.type = type
        self.data = data
        self.rows = rows
        self.cols = cols
        self.interleaved = interleaved
        rowBytes = type.byteCount(values: cols) ?? 0
    }

    /// The kernels' name for the layout: the ggml type, with `RS_TYPE_X16` when interleaved.
    var kernelType: Int32 { Int32(type.rawValue) | (interleaved ? RS_TYPE_X16 : 0) }

    /// Dequantizes row `r` into `out` (`cols` floats): an embedding lookup.
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        rs_dequantize_row_at(kernelType, data, Int64(rowBytes), Int64(r), out, Int64(cols))
    }

    /// A matmul job writing `y[t * ldy + r]`; `accumulate` adds into y (a fused residual).
    func job(into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false) -> rs_matmul_job {
        rs_matmul_job(type: kernelType, w: data, row_bytes: Int64(rowBytes), rows: Int64(rows),
                      y: y, ldy: Int64(ldy), accumulate: accumulate ? 1 : 0)
    }

    /// An interleaved copy kept alive by `keep`, where this CPU's kernels make it pay
    /// (`rs_x16_pays`: Q4_0, Q4_1, Q5_0, Q8_0, Q4_K and Q6_K with AVX-512 VNNI) and `enabled`;
    /// else nil. Same size as the stored rows. It is made a few megabytes at a time (groups of
    /// 16 rows are contiguous in both layouts), each piece of the stored rows handed to `done`
    /// once copied, so a caller can let go of it before the next is read.
    func interleavedCopy(enabled: Bool = KernelPath.interleaveWeights, keep: (FloatBuffer) -> Void,
                         done: (UnsafeRawPointer, Int) -> Void = { _, _ in }) -> WeightMatrix? {
        let t = Int32(type.rawValue)
        guard enabled, !interleaved, rs_x16_pays(t, Int64(rows), Int64(cols)) != 0 else { return nil }
        let storage = FloatBuffer(count: (rows * rowBytes + 3) / 4)
        keep(storage)
        let out = UnsafeMutableRawPointer(storage.pointer)
        let piece = max(16, (4 << 20) / max(1, rowBytes) / 16 * 16)
        for r in stride(from: 0, to: rows, by: piece) {
            let n = min(piece, rows - r), offset = r * rowBytes
            rs_repack_x16(t, data + offset, Int64(n), Int64(cols), out + offset)
            done(data + offset, n * rowBytes)
        }
        return WeightMatrix(type: type, data: UnsafeRawPointer(storage.pointer), rows: rows, cols: cols, interleaved: true)
    }
}

/// y = x W^T for weights that share one input, in one parallel region. Fixed arities instead of
/// an array, so a decode step allocates nothing.
///
/// - Parameters:
///   - x: `tokens` rows of `cols` floats, `ldx` apart; every weight has `cols` columns.
func matmul(_ x: UnsafePointer<Float>, ldx: Int, tokens: Int, cols: Int, _ a: rs_matmul_job) {
    var j = a
    rs_matmul(&j, 1, x, Int64(ldx), Int64(cols), Int64(tokens))
}

func matmul(_ x: UnsafePointer<Float>, ldx: Int, tokens: Int, cols: Int, _ a: rs_matmul_job, _ b: rs_matmul_job) {
    var js = (a, b)
    withUnsafeMutablePointer(to: &js) {
        $0.withMemoryRebound(to: rs_matmul_job.self, capacity: 2) {
            rs_matmul($0, 2, x, Int64(ldx), Int64(cols), Int64(tokens))
        }
    }
}

func matmul(_ x: UnsafePointer<Float>, ldx: Int, tokens: Int, cols: Int, _ a: rs_matmul_job, _ b: rs_matmul_job, _ c: rs_matmul_job) {
    var js = (a, b, c)
    withUnsafeMutablePointer(to: &js) {
        $0.withMemoryRebound(to: rs_matmul_job.self, capacity: 3) {
            rs_matmul($0, 3, x, Int64(ldx), Int64(cols), Int64(tokens))
        }
    }
}
