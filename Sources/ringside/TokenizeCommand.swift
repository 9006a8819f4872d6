import ArgumentParser
import Engine
import Foundation

/// `ringside tokenize`: text to token ids, as `llama-tokenize --no-bos --ids` does by default.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a text (no BOS/EOS, special tokens not parsed unless asked).")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "The text to tokenize.") var text: String?
    @Option(name: .long, help: "Tokenize the bytes of this file (no escape processing).") var file: String?
    @Flag(name: .long, help: "Print a JSON array of integers.") var json = false
    @Flag(name: .long, help: "Add BOS/EOS as the vocabulary asks (llama.cpp's add_special).") var addSpecial = false
    @Flag(name: .long, help: "Turn special-token texts such as <|im_start|> into their ids.") var parseSpecial = false
    @Option(name: .long, help: ArgumentHelp("Time N encodings and report the best to standard error.", visibility: .hidden))
    var bench: Int?

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text and --file") }
    }

    func run() throws {
        let input: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            input = String(decoding: data, as: UTF8.self)
        } else {
            input = text ?? ""
        }
        let tokenizer = try loadVocabulary(options).tokenizer
        let encode = {
            addSpecial
                ? tokenizer.encodeAddingSpecial(input, parseSpecial: parseSpecial)
                : tokenizer.encode(input, parseSpecial: parseSpecial)
        }
        let ids = encode()
        if let bench { try report(bench, ids.count, input, encode) }
        print(json ? "[" + ids.map(String.init).joined(separator: ", ") + "]" : ids.map(String.init).joined(separator: " "))
    }
}

extension Tokenize {
    /// Best-of-N encoding speed, then the pre-tokenizer alone: its hand-written splitters
    /// against the general regex engine running the same llama.cpp patterns.
    func report(_ runs: Int, _ count: Int, _ input: String, _ encode: () -> [Int32]) throws {
        func best(_ body: () -> Void) -> Double {
            var t = Double.infinity
            for _ in 0..<max(1, runs) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                t = min(t, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return t
        }
        func line(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
        let bytes = input.utf8.count
        let t = best { _ = encode() }
        line(String(format: "encode: %d bytes -> %d tokens in %.1f ms = %.0f tokens/s (best of %d)", bytes, count, t * 1000,
                    Double(count) / t, runs))
        let path = try options.resolvedPath()
        guard let file = try? GGUFFile(path: path), let name = try? file.string("tokenizer.ggml.pre"),
              let native = try? PreTokenizer.named(name), let general = try? PreTokenizer.namedGeneralRegex(name) else { return }
        var pieces = 0, generalPieces = 0
        let tn = best { pieces = native.pieceCount(input) }
        let tg = best { generalPieces = general.pieceCount(input) }
        line(String(format: "pre-tokenizer '%@': llama.cpp's splitters %d pieces in %.1f ms; general regex engine %d pieces in %.1f ms (%.2fx)",
                    name, pieces, tn * 1000, generalPieces, tg * 1000, tg / tn))
    }
}

/// `ringside detokenize`: token ids back to text.
struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the text of token ids (given as arguments, or a JSON array or list on standard input).")

    @OptionGroup var options: ModelOptions
    @Argument(help: "Token ids; commas and brackets are allowed, so a JSON array works. Read from standard input when absent.")
    var ids: [String] = []
    @Flag(name: .long, help: "Drop control and unknown tokens.") var skipSpecial = false

    func run() throws {
        let source = ids.isEmpty
            ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            : ids.joined(separator: " ")
        var parsed: [Int32] = []
        // By scalars: "\r\n" is one Character, so a Character set would miss a lone "\n".
        let separators: Set<Unicode.Scalar> = [" ", "\t", "\r", "\n", ",", "[", "]"]
        var words: [String] = [], current = ""
        for scalar in source.unicodeScalars {
            if separators.contains(scalar) {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        for word in words {
            guard let id = Int32(word) else { throw CLIError("not a token id: '\(word)'") }
            parsed.append(id)
        }
        let tokenizer = try loadVocabulary(options).tokenizer
        if let bad = parsed.first(where: { $0 < 0 || Int($0) >= tokenizer.vocabularySize }) {
            throw CLIError("token id \(bad) is outside the vocabulary (0..<\(tokenizer.vocabularySize))")
        }
        FileHandle.standardOutput.write(Data(tokenizer.decode(parsed, skipSpecial: skipSpecial).utf8))
    }
}

/// The tokenizer and template of `--model`, without its weights.
func loadVocabulary(_ options: ModelOptions) throws -> ModelVocabulary {
    let path = try options.resolvedPath()
    do { return try ModelVocabulary(path: path) } catch { throw CLIError("\(path): \(error)") }
}
