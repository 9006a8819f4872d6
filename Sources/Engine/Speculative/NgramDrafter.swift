/// Prompt-lookup drafting: find the longest suffix of the sequence (between `minWindow` and
/// `maxWindow` tokens) that occurred earlier in it, the most recent occurrence on ties, and
/// propose the tokens that followed that occurrence.
///
/// Candidates are the earlier positions holding the last token; each is extended backwards,
/// so a lookup costs one pass over the sequence plus `maxWindow` per candidate.
struct NgramDrafter: Sendable {
    let minWindow: Int
    let maxWindow: Int

    init(minWindow: Int, maxWindow: Int) {
        self.minWindow = max(1, minWindow)
        self.maxWindow = max(self.minWindow, maxWindow)
    }

    /// The longest suffix match: its last position in the sequence and its length (0: none
    /// of at least `minWindow`). Its length is what `AcceptanceTable` classes drafts by.
    func longestMatch(prompt: [Int32], output: [Int32]) -> (end: Int, length: Int) {
        let p = prompt.count, n = p + output.count
        guard n >= 2 else { return (-1, 0) }
        @inline(__always) func at(_ i: Int) -> Int32 { i < p ? prompt[i] : output[i - p] }
        let last = at(n - 1)
        var bestEnd = -1, bestLength = 0
        // `end` is the candidate's last matched position; the match may not include n - 1.
        var end = n - 2
        while end >= 0 {
            if at(end) == last {
                var length = 1
                while length < maxWindow, end - length >= 0, at(end - length) == at(n - 1 - length) { length += 1 }
                if length > bestLength {
                    bestLength = length
                    bestEnd = end
                    if length == maxWindow { break }
                }
            }
            end -= 1
        }
        return bestLength >= minWindow ? (bestEnd, bestLength) : (-1, 0)
    }

    /// Appends at most `limit` drafted tokens for `prompt + output` to `drafts` (what followed
    /// `match`, by default the longest); returns how many. Allocates nothing once `drafts`
    /// has the capacity.
    func propose(prompt: [Int32], output: [Int32], limit: Int, into drafts: inout [Int32],
                 match: (end: Int, length: Int)? = nil) -> Int {
        guard limit > 0 else { return 0 }
        let (bestEnd, bestLength) = match ?? longestMatch(prompt: prompt, output: output)
        guard bestLength > 0, bestEnd >= 0 else { return 0 }
        let p = prompt.count, n = p + output.count
        let from = bestEnd + 1, to = min(n, from + limit)
        for i in from ..< to { drafts.append(i < p ? prompt[i] : output[i - p]) }
        return to - from
    }
}
