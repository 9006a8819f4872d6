/// What the rest of the engine needs to know about a loaded model.
public struct ModelInfo: Sendable, Equatable {
    public var architecture: String
    public var name: String
    public var vocabSize: Int
    public var contextLength: Int
    public var layers: Int
    /// Floats of K (and of V) per token per layer.
    public var kvDim: Int
    public var parameterCount: Int
    public var weightBytes: Int
    /// Mixture-of-Experts layout (0 for dense models): layers counted include dense ones, so
    /// expert counters index by the model's own layer number.
    public var expertLayers: Int = 0
    public var experts: Int = 0
}
