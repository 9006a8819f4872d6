@testable import Engine
import Foundation
import Testing

/// The MTP part of tiny-ring's golden file (`train.py --phases mtp-golden`, Fixtures/tiny-ring/README.md).
struct MTPGolden: Decodable {
    struct File: Decodable {
        let prompts: [TinyRingGolden.Prompt]
        let mtp: MTPGolden
    }
    let prompt_index: Int
    let next_tokens: [Int32]
    let argmax: [Int32]
    let margin: [Float]
    let rows: [Int]
    let logits: [[Float]]
    let chain_tokens: [Int32]
    let chain_logits: [[Float]]
    let drafts: [Int32]

    static func load() throws -> (prompt: [Int32], mtp: MTPGolden) {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny-ring/golden", withExtension: "json"))
        let f = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        return (f.prompts[f.mtp.prompt_index].prompt_ids, f.mtp)
    }
}

@Suite("tiny-ring MTP layer", .serialized)
struct TinyRingMTPTests {
    /// Own copies: a model is not reentrant and other tiny-ring suites may run alongside.
    static let hf = Result { try LoadedModel(path: ModelCatalog().resolve("tiny-ring")) }
    static let gguf = Result {
        try LoadedModel(path: #require(Bundle.module.url(forResource: "Fixtures/tiny-ring/tiny-ring.f32", withExtension: "gguf")).path)
    }

    static func maxDifference(_ a: UnsafeMutableBufferPointer<Float>, _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()!
    }

    /// The main pass over the prompt keeps its hidden states; the MTP pass over the same
    /// positions (each given the next token) and a greedy chain after it give the numpy
    /// reference's logits.
    @Test(arguments: ["safetensors", "gguf"])
    func draftLogitsMatchTheIndependentForwardPass(_ source: String) throws {
        let m = try (source == "gguf" ? Self.gguf : Self.hf).get()
        let model = try #require(m.model as? DecoderModel)
        try #require(model.nextn != nil, "\(source): the MTP layer is loaded")
        #expect(model.info.layers == 6, "the MTP layer is not one of the model's layers")
        let (prompt, g) = try MTPGolden.load()
        let T = prompt.count, d = model.embedding.cols
        let cache = KVCache(layers: model.info.layers + 1, kvDim: model.info.kvDim, tokens: 256, pageSize: 16)
        let slots = ReqToTokenPool(rows: 1, maxContext: cache.slotCount)
        var pages: [Int32] = []
        #expect(cache.allocator.allocate(cache.pageCount, into: &pages))
        defer { cache.allocator.release(pages) }
        let row = slots.row(0)
        for p in 0 ..< cache.slotCount { row[p] = pages[p / 16] * 16 + Int32(p % 16) }

        var batch = ForwardBatch(slotTable: slots.table)
        batch.append(tokens: prompt, startPosition: 0, slotRow: 0)
        model.captureHidden = true
        defer { model.captureHidden = false }
        _ = model.forward(batch, cache: cache)
        let hidden = Array(UnsafeBufferPointer(start: model.hidden.pointer, count: T * d))

        batch.removeAll()
        batch.append(tokens: g.next_tokens, startPosition: 0, slotRow: 0, allLogits: true)
        let logits = hidden.withUnsafeBufferPointer { model.draftForward(batch, hidden: $0.baseAddress!, cache: cache) }
        #expect(logits.rows == T)
        // The greedy guess at every position whose top two logits are not within rounding.
        for r in 0 ..< T where g.margin[r] > 1e-3 {
            #expect(Sampler.argmax(logits.row(r)) == g.argmax[r], "\(source) position \(r)")
        }
        for (i, r) in g.rows.enumerated() {
            let w = Self.maxDifference(logits.row(r), g.logits[i])
            #expect(w < 1e-3, "\(source) position \(r): max difference \(w)")
        }
        var h = Array(UnsafeBufferPointer(start: model.draftOut.pointer + (T - 1) * d, count: d))
        for (j, t) in g.chain_tokens.enumerated() {
            batch.removeAll()
            batch.append(tokens: [t], startPosition: T + j, slotRow: 0)
            let l = h.withUnsafeBufferPointer { model.draftForward(batch, hidden: $0.baseAddress!, cache: cache) }
            let w = Self.maxDifference(l.row(0), g.chain_logits[j])
            #expect(w < 1e-3, "\(source) chain step \(j + 1): max difference \(w)")
            let top = g.chain_logits[j].sorted(by: >)
            if top[0] - top[1] > 1e-3 { #expect(Sampler.argmax(l.row(0)) == g.drafts[j + 1], "\(source) chain step \(j + 1)") }
            h = Array(UnsafeBufferPointer(start: model.draftOut.pointer, count: d))
        }
    }
}
