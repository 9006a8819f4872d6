/// The logits a forward pass produced: `rows` rows of `vocabSize`, in batch order (one per
/// sequence, or one per token for sequences that asked for all).
public struct Logits: @unchecked Sendable {
    // Points into the model's workspace; valid until its next forward pass.
    public let pointer: UnsafeMutablePointer<Float>
    public let rows: Int
    public let vocabSize: Int

    public func row(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer + i * vocabSize, count: vocabSize)
    }
}
