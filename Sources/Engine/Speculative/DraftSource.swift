/// Where a request's drafts come from, as the host sees them when it builds a step.
protocol DraftSource {
    /// Appends up to `limit` drafts after `tokens[0]` (the request's newest token) to `tokens`
    /// and each one's parent to `parents` (in a chain, the node before it); returns how many.
    mutating func propose(prompt: [Int32], output: [Int32], limit: Int, tokens: inout [Int32], parents: inout [Int]) -> Int
}

/// The MTP layer's drafts are computed on the device just before the target verifies them
/// (`NextNDrafter`), from state the host never sees: the host offers a chain of placeholders,
/// as many as it wants verified, and reserves their KV slots as for any drafts.
struct NextNDraftSlots: DraftSource {
    func propose(prompt: [Int32], output: [Int32], limit: Int, tokens: inout [Int32], parents: inout [Int]) -> Int {
        for i in 0 ..< max(0, limit) {
            tokens.append(0)
            parents.append(i)
        }
        return max(0, limit)
    }
}
