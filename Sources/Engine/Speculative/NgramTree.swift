/// Draft trees from n-gram matches (SGLang's NGRAM idea over the request's own tokens): every
/// earlier occurrence of the sequence's suffix (between `minWindow` and `maxWindow` tokens long)
/// proposes what followed it; the proposals are merged into a trie, and the trie nodes with the
/// most weight behind them are kept, at most `breadth` children per node and `limit` nodes in
/// all. A longer match weighs four times a match one token shorter, so the longest, most recent
/// match's continuation comes first and others branch off where they disagree with it.
///
/// Host thread only; the scratch arrays are reused, so a lookup allocates nothing once they
/// have grown.
struct NgramTree: Sendable {
    let minWindow: Int
    let maxWindow: Int
    let breadth: Int
    /// Matches merged into one tree.
    let maxMatches = 8

    private var matchEnd: [Int] = [], matchWeight: [Int] = []
    private var nodeToken: [Int32] = [], nodeParent: [Int] = [], nodeWeight: [Int] = [], nodeDepth: [Int] = []
    private var nodeOut: [Int] = [], nodeChildrenOut: [Int] = []
    /// The longest match of the last `propose` (0: none), which classes its drafts.
    private(set) var matchLength = 0

    init(minWindow: Int, maxWindow: Int, breadth: Int) {
        self.minWindow = max(1, minWindow)
        self.maxWindow = max(self.minWindow, maxWindow)
        self.breadth = max(1, breadth)
    }

    /// Appends at most `limit` draft nodes for `prompt + output` to `tokens` and their parents
    /// to `parents` (index into the tree whose node 0 is the sequence's newest token, which the
    /// caller put there; a parent comes before its children). Returns how many.
    mutating func propose(prompt: [Int32], output: [Int32], limit: Int, tokens: inout [Int32], parents: inout [Int]) -> Int {
        let p = prompt.count, n = p + output.count
        matchLength = 0
        guard limit > 0, n >= 2 else { return 0 }
        @inline(__always) func at(_ i: Int) -> Int32 { i < p ? prompt[i] : output[i - p] }
        let last = at(n - 1)
        // The best matches, longest first and most recent first among equals.
        matchEnd.removeAll(keepingCapacity: true)
        matchWeight.removeAll(keepingCapacity: true)
        var end = n - 2
        while end >= 0 {
            if at(end) == last {
                var length = 1
                while length < maxWindow, end - length >= 0, at(end - length) == at(n - 1 - length) { length += 1 }
                if length >= minWindow {
                    matchLength = max(matchLength, length)
                    let w = 1 << (2 * min(length, 24))
                    var i = matchWeight.count
                    while i > 0 && matchWeight[i - 1] < w { i -= 1 }
                    if i < maxMatches {
                        matchWeight.insert(w, at: i)
                        matchEnd.insert(end, at: i)
                        if matchWeight.count > maxMatches {
                            matchWeight.removeLast()
                            matchEnd.removeLast()
                        }
                    }
                }
            }
            end -= 1
        }
        guard !matchEnd.isEmpty else { return 0 }
        // The trie of their continuations (node 0 is the root), each at most `limit` deep.
        nodeToken.removeAll(keepingCapacity: true)
        nodeParent.removeAll(keepingCapacity: true)
        nodeWeight.removeAll(keepingCapacity: true)
        nodeDepth.removeAll(keepingCapacity: true)
        nodeToken.append(last); nodeParent.append(-1); nodeWeight.append(0); nodeDepth.append(0)
        for (m, e) in matchEnd.enumerated() {
            var node = 0
            var i = e + 1
            while i < n && nodeDepth[node] < limit {
                let t = at(i)
                var child = -1
                for c in node + 1 ..< nodeToken.count where nodeParent[c] == node && nodeToken[c] == t {
                    child = c
                    break
                }
                if child < 0 {
                    child = nodeToken.count
                    nodeToken.append(t); nodeParent.append(node); nodeWeight.append(0); nodeDepth.append(nodeDepth[node] + 1)
                }
                nodeWeight[child] += matchWeight[m]
                node = child
                i += 1
            }
        }
        // Keep the heaviest nodes whose parent is kept (shallower, then earlier, on ties).
        nodeOut.removeAll(keepingCapacity: true)
        nodeChildrenOut.removeAll(keepingCapacity: true)
        for _ in nodeToken.indices {
            nodeOut.append(-1)
            nodeChildrenOut.append(0)
        }
        nodeOut[0] = 0
        var kept = 0
        while kept < limit {
            var best = -1
            for c in 1 ..< nodeToken.count where nodeOut[c] < 0 {
                let parent = nodeParent[c]
                guard nodeOut[parent] >= 0, nodeChildrenOut[parent] < breadth else { continue }
                if best < 0 || nodeWeight[c] > nodeWeight[best] || (nodeWeight[c] == nodeWeight[best] && nodeDepth[c] < nodeDepth[best]) {
                    best = c
                }
            }
            guard best >= 0 else { break }
            kept += 1
            nodeOut[best] = kept
            nodeChildrenOut[nodeParent[best]] += 1
            tokens.append(nodeToken[best])
            parents.append(nodeOut[nodeParent[best]])
        }
        return kept
    }
}
