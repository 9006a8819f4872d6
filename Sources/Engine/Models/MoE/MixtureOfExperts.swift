/// Models with routed experts: which backend they use, and how many tokens each expert saw.
public protocol MixtureOfExperts: AnyObject {
    var moeBackend: MoEBackend { get set }
    /// Calls `body(layer, expert, tokens)` for every expert that saw tokens since the last
    /// call, then starts counting afresh. Device thread only.
    func drainExpertCounts(_ body: (Int, Int, Int64) -> Void)
}
