/// Why a model file could not be read. Every case names the file and the problem, so a user
/// who points `--model` at the wrong or a damaged file learns what is wrong without a crash.
public enum ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(path: String, reason: String)
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, what: String, offset: Int)
    case absurdCount(path: String, what: String, count: UInt64)
    case badValueType(path: String, key: String, raw: UInt32)
    case invalidString(path: String, offset: Int)
    case duplicate(path: String, name: String)
    case unknownTensorType(path: String, tensor: String, raw: UInt32)
    case unsupportedTensorType(path: String, tensor: String, type: String)
    case badShape(path: String, tensor: String, reason: String)
    case tensorOutOfRange(path: String, tensor: String)
    case misalignedTensor(path: String, tensor: String, offset: UInt64)
    case missingKey(path: String, key: String)
    case wrongKeyType(path: String, key: String, expected: String)
    case missingTensor(path: String, tensor: String)
    case unknownArchitecture(path: String, architecture: String, known: [String])
    case badHeader(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason): "\(path): \(reason)"
        case let .badMagic(path, found): "\(path): not a GGUF file (magic \(found), expected 'GGUF')"
        case let .unsupportedVersion(path, v): "\(path): GGUF version \(v) is not supported (2 and 3 are)"
        case let .truncated(path, what, offset): "\(path): file is truncated: \(what) at byte \(offset) runs past the end"
        case let .absurdCount(path, what, count): "\(path): implausible \(what) \(count); the file is corrupt"
        case let .badValueType(path, key, raw): "\(path): metadata '\(key)' has unknown value type \(raw)"
        case let .invalidString(path, offset): "\(path): string at byte \(offset) is not valid UTF-8"
        case let .duplicate(path, name): "\(path): '\(name)' appears twice"
        case let .unknownTensorType(path, tensor, raw): "\(path): tensor '\(tensor)' has unknown ggml type \(raw)"
        case let .unsupportedTensorType(path, tensor, type): "\(path): tensor '\(tensor)' uses type \(type), which this engine cannot compute with"
        case let .badShape(path, tensor, reason): "\(path): tensor '\(tensor)' has a bad shape: \(reason)"
        case let .tensorOutOfRange(path, tensor): "\(path): tensor '\(tensor)' data lies outside the file"
        case let .misalignedTensor(path, tensor, offset): "\(path): tensor '\(tensor)' offset \(offset) is not aligned"
        case let .missingKey(path, key): "\(path): required metadata '\(key)' is missing"
        case let .wrongKeyType(path, key, expected): "\(path): metadata '\(key)' is not \(expected)"
        case let .missingTensor(path, tensor): "\(path): required tensor '\(tensor)' is missing"
        case let .unknownArchitecture(path, arch, known): "\(path): architecture '\(arch)' is not supported (supported: \(known.joined(separator: ", ")))"
        case let .badHeader(path, reason): "\(path): \(reason)"
        }
    }
}
