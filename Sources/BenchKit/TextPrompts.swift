import Engine

/// Text workloads: chat prompts that need the model's tokenizer (and template), unlike the
/// token-id workloads. `rewrite` asks for a given passage back in other form, so the answer
/// is grounded in the input (where n-gram drafts pay); `open-ended` asks questions whose
/// answers are not in the prompt (where they cannot).
enum TextPrompts {
    static let passages = [
        """
        The old harbor town woke slowly in winter. Fishing boats rocked against the stone quay, their ropes stiff with frost, \
        and the baker on Mill Street lit his ovens an hour before dawn. By seven the smell of bread reached the market square, \
        where the first traders set out crates of apples, onions and salted fish. Children walked to school along the sea wall, \
        counting the gulls that stood on the railings, and the ferry to the island sounded its horn twice before it left.
        """,
        """
        To replace a bicycle inner tube, first release the brake and remove the wheel from the frame. Let out any remaining air, \
        then push one tire lever under the bead of the tire and hook it onto a spoke. Slide a second lever around the rim until \
        one side of the tire comes free, and pull out the old tube. Check the inside of the tire for thorns or glass, fit the new \
        tube with a little air in it, push the bead back over the rim by hand, and inflate the tire to the pressure printed on its side.
        """,
        """
        The committee met on Tuesday to review the library budget for next year. Members agreed to keep the opening hours \
        unchanged, to spend more on children's books and audio books, and to repair the roof of the reading room before the \
        autumn rains. The proposal to close the branch on Elm Road was rejected after residents presented a petition with four \
        hundred signatures. The committee will meet again in March to approve the final figures and to choose a new head librarian.
        """,
        """
        Photosynthesis takes place in the chloroplasts of green plants. Light energy is absorbed by chlorophyll and used to split \
        water molecules, which releases oxygen as a by-product. The energy captured in this way is stored in two carrier molecules, \
        and in a second set of reactions the plant uses them to turn carbon dioxide from the air into sugars. These sugars feed \
        the growth of the plant and, through the food chain, almost every other living thing on land.
        """,
    ]

    static let rewriteInstructions = [
        "Rewrite the following passage, keeping every sentence and its wording as far as possible:",
        "Copy out the following passage, fixing nothing and changing nothing:",
        "Rewrite the following passage in the past tense:",
    ]

    static let openEnded = [
        "Write a short story about a robot who learns to paint.",
        "What are the main causes of inflation? Explain briefly.",
        "Give me five ideas for a weekend trip in the mountains.",
        "Explain how a refrigerator works to a ten-year-old.",
        "Write a poem about autumn leaves.",
        "What should I consider when buying a used car?",
        "Describe the life cycle of a star.",
        "Suggest a plan for learning to play the guitar.",
    ]

    /// The `i`-th question of `tasks`: the same for every run (numbers from a hash of i).
    static func task(_ i: Int) -> String {
        var rng = SeededGenerator(seed: UInt64(i) &+ 0x7A5C)
        func n(_ m: UInt64) -> UInt64 { rng.next() % m }
        switch i % 5 {
        case 0: return "What is \(n(1000)) + \(n(1000))?"
        case 1:
            let a = n(1000), b = n(1000)
            return "What is \(max(a, b)) - \(min(a, b))?"
        case 2: return "Which is \(n(2) == 0 ? "larger" : "smaller"), \(n(1000)) or \(n(1000))?"
        case 3: return "Sort \((0 ..< 3 + n(3)).map { _ in String(n(100)) }.joined(separator: ", ")) in \(n(2) == 0 ? "ascending" : "descending") order."
        default:
            let words = ["strawberry", "banana", "mississippi", "letter", "coffee", "balloon", "committee", "bookkeeper"]
            let w = words[Int(n(UInt64(words.count)))]
            let letter = w[w.index(w.startIndex, offsetBy: Int(n(UInt64(w.count))))]
            return "How many times does the letter \(letter) appear in \(w)?"
        }
    }

    /// The `i`-th prompt of a text workload.
    static func prompt(_ kind: Workload, _ i: Int) -> String {
        switch kind {
        case .openEnded: return openEnded[i % openEnded.count]
        case .tasks: return task(i)
        default:
            let p = passages[i % passages.count], how = rewriteInstructions[(i / passages.count) % rewriteInstructions.count]
            return how + "\n\n" + p
        }
    }
}
