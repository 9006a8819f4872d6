import Kernels
import Testing

/// One kernel path, forced for a test: `run` lowers the kernels on the calling thread (and in the
/// pool regions it issues) with `rs_set_thread_isa`, so every path a CPU can run is tested on it
/// while other tests keep the native one. Tests of a path take its `trait`: on a CPU without the
/// path they are reported as skipped with the reason, never run and never counted as passed.
enum ForcedISA: Int32, CaseIterable, Sendable, CustomTestStringConvertible {
    case scalar = 0, avx2 = 1, avx512 = 2

    static let native = rs_cpu_plan_native().pointee.isa

    var testDescription: String { String(cString: rs_isa_name(rawValue)) }
    var runsHere: Bool { rawValue <= Self.native }

    /// Skips the test, saying why, on a CPU without this path.
    var trait: ConditionTrait {
        .enabled(if: runsHere, Comment(rawValue: "this CPU has no \(testDescription) (CPUID + XCR0 allow \(String(cString: rs_isa_name(Self.native))) at most): the \(testDescription) kernels cannot run here"))
    }

    /// `body` on this path. Synchronous, so it stays on the thread whose setting was changed.
    func run<T>(_ body: () throws -> T) rethrows -> T {
        let previous = rs_set_thread_isa(rawValue)
        precondition(previous != -2, "\(self) does not run on this CPU: give the test its trait")
        defer { rs_set_thread_isa(previous) }
        return try body()
    }
}
