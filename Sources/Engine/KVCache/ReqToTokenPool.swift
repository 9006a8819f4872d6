/// For each live request, the KV slot of every position it has cached: row `r`, column `p`.
/// SGLang's `req_to_token`. Attention reads a sequence's slots straight from its row, so a
/// batch never copies them.
public final class ReqToTokenPool: @unchecked Sendable {
    // Rows are written by the scheduler between forward passes and read during them.
    public let rows: Int
    public let maxContext: Int
    public let table: UnsafeMutablePointer<Int32>
    private var freeRows: [Int]

    public init(rows: Int, maxContext: Int) {
        self.rows = rows
        self.maxContext = maxContext
        table = .allocate(capacity: rows * maxContext)
        table.initialize(repeating: -1, count: rows * maxContext)
        freeRows = (0 ..< rows).reversed()
    }

    deinit { table.deallocate() }

    public var freeRowCount: Int { freeRows.count }

    public func allocateRow() -> Int? { freeRows.popLast() }
    public func release(row: Int) { freeRows.append(row) }

    public func row(_ r: Int) -> UnsafeMutablePointer<Int32> { table + r * maxContext }
}
