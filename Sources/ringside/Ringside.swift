import ArgumentParser

@main
struct Ringside: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringside",
        abstract: "An LLM serving engine for the CPU, with a terminal cockpit.",
        subcommands: [Chat.self, Generate.self, Serve.self, Top.self, Bench.self, Models.self, Microbench.self, EngineBench.self,
                      Tokenize.self, Detokenize.self, Template.self],
        defaultSubcommand: Chat.self)
}
