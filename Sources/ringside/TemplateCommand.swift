import ArgumentParser
import Engine
import Foundation
import Jinja

/// `ringside template`: the prompt text a chat renders to, as transformers'
/// `apply_chat_template(messages, tools=..., tokenize=False)` prints it.
struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a conversation through the model's chat template and print the prompt.",
        discussion: """
        --messages takes a JSON file: an array of OpenAI-style messages, or an object with "messages" \
        and optionally "tools" (OpenAI function tools). strftime_now reads SOURCE_DATE_EPOCH when set.
        """)

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "JSON file with the messages (and tools).") var messages: String
    @Option(name: .long, help: "Use this Jinja template file instead of the model's.") var chatTemplate: String?
    @Flag(name: .long, help: "Do not append the assistant turn's opening.") var noGenerationPrompt = false
    @Option(name: .long, help: "A JSON object of extra template variables, e.g. '{\"enable_thinking\": false}'.")
    var kwargs: String?

    func run() throws {
        let vocabulary = try loadVocabulary(options)
        let source: String
        if let chatTemplate {
            guard let data = FileManager.default.contents(atPath: chatTemplate) else { throw CLIError("cannot read \(chatTemplate)") }
            source = String(decoding: data, as: UTF8.self)
        } else {
            guard let own = vocabulary.chatTemplate else { throw CLIError("the model has no chat template; give --chat-template") }
            source = own
        }
        guard let data = FileManager.default.contents(atPath: messages) else { throw CLIError("cannot read \(messages)") }
        let conversation: JinjaValue
        do { conversation = try JinjaValue(json: String(decoding: data, as: UTF8.self)) } catch {
            throw CLIError("\(messages): \(error)")
        }
        let list: [JinjaValue], tools: [JinjaValue]?
        switch conversation {
        case .array(let items):
            list = items
            tools = nil
        case .object:
            guard case .array(let items)? = conversation["messages"] else { throw CLIError("\(messages): no \"messages\" array") }
            list = items
            switch conversation["tools"] {
            case .array(let t)?: tools = t
            case nil, .none?: tools = nil
            default: throw CLIError("\(messages): \"tools\" must be an array")
            }
        default:
            throw CLIError("\(messages): expected an array of messages or an object with \"messages\"")
        }
        var extra: [String: JinjaValue] = [:]
        if let kwargs {
            guard case .object(let map)? = try? JinjaValue(json: kwargs) else { throw CLIError("--kwargs must be a JSON object") }
            for (key, value) in map.entries { extra[key] = value }
        }
        do {
            let template = try ChatTemplate(source)
            let text = try template.render(messages: list, tools: tools, addGenerationPrompt: !noGenerationPrompt,
                                           bosToken: vocabulary.bosToken, eosToken: vocabulary.eosToken, extra: extra)
            FileHandle.standardOutput.write(Data(text.utf8))
        } catch {
            throw CLIError("template: \(error)")
        }
    }
}
