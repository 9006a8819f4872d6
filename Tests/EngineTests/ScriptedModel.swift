@testable import Engine
import Foundation
import Testing

/// A stand-in network whose greedy choice at each position is fixed in advance: the row for a
/// sequence whose last token sits at position p puts all weight on `next(p + 1)`. Served under
/// a real tokenizer and template, it drives the engine through exact output sequences (a
/// `<think>` block, a stop string) that a small real model cannot be made to produce.
final class ScriptedModel: LanguageModel, @unchecked Sendable {
    /// The real qwen3-tiny folder (tokenizer, template, thinking tags) the stand-ins serve under.
    static let qwen3 = Result { try LoadedModel(path: #require(HFGolden.folder("qwen3-tiny"))) }

    // Called only from the device thread, one forward pass at a time.
    let info: ModelInfo
    private let next: @Sendable (Int) -> Int32
    private var storage = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var capacity = 1

    init(vocabSize: Int, contextLength: Int = 4096, next: @escaping @Sendable (Int) -> Int32) {
        info = ModelInfo(architecture: "scripted", name: "scripted", vocabSize: vocabSize, contextLength: contextLength,
                         layers: 1, kvDim: 1, parameterCount: 0, weightBytes: 0)
        self.next = next
    }

    /// Continues a prompt of `promptLength` tokens with `script`, then repeats `after`.
    convenience init(vocabSize: Int, promptLength: Int, script: [Int32], after: Int32) {
        self.init(vocabSize: vocabSize) { p in
            let i = p - promptLength
            return i >= 0 && i < script.count ? script[i] : after
        }
    }

    deinit { storage.deallocate() }

    func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits {
        let v = info.vocabSize
        let n = max(1, batch.logitRowCount) * v
        if n > capacity {
            storage.deallocate()
            storage = .allocate(capacity: n)
            capacity = n
        }
        storage.initialize(repeating: 0, count: n)
        var row = 0
        for s in batch.sequences {
            let count = s.allLogits ? s.tokenCount : 1
            for k in 0 ..< count {
                let last = s.allLogits ? s.tokenStart + k : s.tokenStart + s.tokenCount - 1
                storage[row * v + Int(next(Int(batch.positions[last]) + 1))] = 20
                row += 1
            }
        }
        return Logits(pointer: storage, rows: row, vocabSize: v)
    }

    /// `base`'s tokenizer, template and stop tokens over this network.
    func serving(like base: LoadedModel) -> LoadedModel {
        LoadedModel(path: base.path, model: self, tokenizer: base.tokenizer, chatTemplate: base.chatTemplate, stopTokens: base.stopTokens)
    }
}

/// A stand-in network that computes from its KV cache the way attention does: each new
/// token's id and position go into its K/V slot, and a sequence's next token is a hash of
/// everything its row of the slot table points at. A wrong slot, a stale or shared page or a
/// lost position changes the output, as it would a real model's, at no cost: scheduler tests
/// can run long and crowded without a real forward pass.
final class EchoModel: LanguageModel, @unchecked Sendable {
    // Called only from the device thread, one forward pass at a time.
    let info: ModelInfo
    private var storage = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var capacity = 1
    /// Cached positions whose slot did not hold that position (read once the engine is idle).
    private(set) var misplaced = 0

    init(vocabSize: Int, contextLength: Int = 4096) {
        info = ModelInfo(architecture: "echo", name: "echo", vocabSize: vocabSize, contextLength: contextLength,
                         layers: 1, kvDim: 1, parameterCount: 0, weightBytes: 0)
    }

    deinit { storage.deallocate() }

    func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits {
        let v = info.vocabSize
        let n = max(1, batch.logitRowCount) * v
        if n > capacity {
            storage.deallocate()
            storage = .allocate(capacity: n)
            capacity = n
        }
        storage.initialize(repeating: 0, count: n)
        let keys = cache.keys(layer: 0), values = cache.values(layer: 0)
        for i in 0 ..< batch.tokenCount {
            keys[Int(batch.outSlots[i])] = Float(batch.tokens[i])
            values[Int(batch.outSlots[i])] = Float(batch.positions[i])
        }
        var row = 0
        for s in batch.sequences {
            for k in (s.allLogits ? 0 : s.tokenCount - 1) ..< s.tokenCount {
                let last = Int(batch.positions[s.tokenStart + k])
                var h: UInt64 = 0xCBF2_9CE4_8422_2325
                for p in 0 ... last {
                    let slot = Int(batch.slotTable[s.slotRow + p])
                    if values[slot] != Float(p) { misplaced += 1 }
                    h = (h ^ UInt64(keys[slot]) ^ UInt64(p) << 32) &* 0x100_0000_01B3
                }
                storage[row * v + 20 + Int(h % UInt64(v - 40))] = 20
                row += 1
            }
        }
        return Logits(pointer: storage, rows: row, vocabSize: v)
    }

    func serving(like base: LoadedModel) -> LoadedModel {
        LoadedModel(path: base.path, model: self, tokenizer: base.tokenizer, chatTemplate: base.chatTemplate, stopTokens: base.stopTokens)
    }
}
