import Engine
import Foundation
import Profiler

/// The in-process engine as a cockpit source: panes read its recorder, the chat submits to it.
/// `ringside chat` owns its engine (and switches models by loading another); `ringside serve
/// --cockpit` lends the serving engine, which the HTTP handlers share, so it cannot switch.
public final class EngineSource: CockpitSource, @unchecked Sendable {
    public typealias Loader = @Sendable (String) throws -> Engine

    public let engine: Engine
    public let modelName: String
    let loader: Loader?
    let owned: Bool
    let statusLine: (@Sendable () -> String?)?
    // Read only from the UI thread.
    private var cursor = Recorder.Cursor()

    /// - Parameters:
    ///   - loader: loads another model for the picker; nil when the engine is lent (serving).
    ///   - owned: whether `close` shuts the engine down.
    ///   - status: what the status line says (the serve address and request count).
    public init(engine: Engine, modelName: String, loader: Loader?, owned: Bool = true,
                status: (@Sendable () -> String?)? = nil) {
        self.engine = engine
        self.modelName = modelName
        self.loader = loader
        self.owned = owned
        statusLine = status
        _ = engine.recorder.read(&cursor)
    }

    public var shape: ExpertShape {
        ExpertShape(modelName: modelName, layers: engine.loaded.model.info.expertLayers, experts: engine.loaded.model.info.experts)
    }

    public var pageSize: Int { engine.config.pageSize }
    public func poll() -> [Event] { engine.recorder.read(&cursor) }
    public var status: String? { statusLine?() }
    public var server: ServerView? { nil }
    public var canChat: Bool { true }

    public func chat(_ messages: [ChatMessage], params: SamplingParams) -> AsyncThrowingStream<GenerationEvent, any Error> {
        engine.submit(GenerateRequest(input: .chat(messages), params: params))
    }

    public func pickerModels() -> Result<[String]?, PickerRefusal> {
        loader == nil ? .failure(PickerRefusal("the serving engine is shared with HTTP clients: restart `ringside serve --model` to switch"))
                      : .success(nil)
    }

    public func switchModel(_ name: String) throws -> any CockpitSource {
        guard let loader else { throw PickerRefusal("this engine cannot switch models") }
        let e = try loader(name)
        RecentModels().add(name)
        return EngineSource(engine: e, modelName: name, loader: loader, owned: true, status: statusLine)
    }

    public func close() {
        if owned { engine.shutdown() }
    }
}
