import Foundation

/// llama-server's `GET /slots` (on unless it runs with `--no-slots`): per slot, the task it runs
/// or ran last and the tokens that task has generated so far (`next_token[0].n_decoded`;
/// `server_slot::to_json` in tools/server/server-context.cpp).
///
/// Why read it: llama.cpp moves `llamacpp:tokens_predicted_total` only when a request ends, and
/// its `predicted_tokens_seconds` gauge averages over finished requests, so a cockpit watching
/// long generations saw 0 tokens/s until one ended and then a burst. The slots' counts move with
/// every token.
public struct LlamaSlots: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var id: Int
        /// The task the slot runs, or the one it ran last (nil before its first).
        public var task: Int?
        public var decoded: Int
        public var processing: Bool

        public init(id: Int, task: Int?, decoded: Int, processing: Bool) {
            self.id = id
            self.task = task
            self.decoded = decoded
            self.processing = processing
        }
    }

    public var slots: [Slot]

    public init(slots: [Slot]) { self.slots = slots }

    /// nil unless `text` is a JSON array of slot objects with integer ids.
    public init?(text: String) {
        guard let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else { return nil }
        var slots: [Slot] = []
        for o in array {
            guard let id = o["id"] as? Int else { return nil }
            let next = (o["next_token"] as? [[String: Any]])?.first
            slots.append(Slot(id: id, task: o["id_task"] as? Int, decoded: max(0, next?["n_decoded"] as? Int ?? 0),
                              processing: o["is_processing"] as? Bool ?? false))
        }
        self.slots = slots
    }

    public var processing: Int { slots.count(where: \.processing) }

    /// Tokens generated since `previous`: a slot on the task it had then adds what its count grew
    /// by; a slot on a task that poll did not see adds its whole count, since that task began
    /// after it. What a task generated between the last poll and its end is not counted: an idle
    /// slot's count is reset (0), so a rate from these undercounts by at most one poll interval
    /// per finished request.
    public func generated(since previous: LlamaSlots) -> Int {
        var total = 0
        for s in slots {
            guard let task = s.task else { continue }
            if let p = previous.slots.first(where: { $0.id == s.id }), p.task == task {
                total += max(0, s.decoded - p.decoded)
            } else {
                total += s.decoded
            }
        }
        return total
    }
}
