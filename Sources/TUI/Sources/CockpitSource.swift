import Engine
import Profiler

/// Where the cockpit's panes and chat come from: the in-process engine (`EngineSource`, also
/// the serving engine of `ringside serve --cockpit`) or a server over the network
/// (`RemoteSource`). One cockpit, several sources: `CockpitApp` only ever talks to this.
///
/// Called from the UI thread only, except `switchModel`, which the picker runs on a
/// background thread.
public protocol CockpitSource: AnyObject, Sendable {
    /// The model named in the header and the chat pane.
    var modelName: String { get }
    var shape: ExpertShape { get }
    var pageSize: Int { get }
    /// Profiler events recorded since the last call, timed on this process's monotonic clock.
    func poll() -> [Event]
    /// One line after the header's model name: where the panes come from, the connection's
    /// state (nil: nothing to say).
    var status: String? { get }
    /// Figures a server's metrics and this cockpit's own requests give, for servers whose
    /// events are not visible (nil: the panes read events).
    var server: ServerView? { get }
    /// Whether the chat pane can send (false: `ringside top`).
    var canChat: Bool { get }
    /// Starts an answer.
    func chat(_ messages: [ChatMessage], params: SamplingParams) -> AsyncThrowingStream<GenerationEvent, any Error>
    /// The models the picker offers (nil: the catalog and recent paths), or why switching is
    /// not possible.
    func pickerModels() -> Result<[String]?, PickerRefusal>
    /// The source for model `name`: a new engine, or the same server asked for another model.
    func switchModel(_ name: String) throws -> any CockpitSource
    /// Ends whatever the source runs (not the serving engine it was lent).
    func close()
}

public struct PickerRefusal: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
