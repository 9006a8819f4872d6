import Profiler

/// Processing a finished device batch: append sampled tokens, check stop conditions, stream
/// text, and retire requests that are done once no batch in flight still uses them.
extension Scheduler {
    func process(_ b: DeviceBatch, _ reqs: [Req]) {
        recorder.begin(.host, .collect, batch: b.id)
        defer { recorder.end(.host, .collect, batch: b.id) }
        var generated = 0
        for (i, r) in reqs.enumerated() where b.seqs[i].sample {
            r.pending -= 1
            guard !r.isDone else { continue }  // finished in an earlier batch: a wasted step
            let token = b.tokens[i]
            if r.firstToken == nil { r.firstToken = Recorder.now() }
            generated += 1
            let stopToken = !r.params.ignoreEOS && loaded.stopTokens.contains(token)
            if stopToken || r.params.stopTokenIDs.contains(token) {
                finish(r, .stop)
                continue
            }
            r.output.append(token)
            stream(r, token: token, logprob: b.logprobs[i])
            if r.finishReason == nil && (r.output.count >= r.params.maxTokens || r.prompt.count + r.output.count >= maxSequenceTokens) {
                finish(r, .length)
            }
        }
        recorder.count(.host, .generatedTokens, generated)
    }

    /// Decodes the token and streams the text, holding back any tail that could still turn
    /// into a stop string so that a stop string is never split across deltas.
    private func stream(_ r: Req, token: Int32, logprob: TokenLogprob?) {
        r.heldText += r.detokenizer.append(token)
        r.heldTokens.append(token)
        if let lp = logprob { r.heldLogprobs.append(lp) }
        if !r.stop.isEmpty {
            if let hit = r.stop.compactMap({ s in r.heldText.range(of: s).map { (s, $0) } }).min(by: { $0.1.lowerBound < $1.1.lowerBound }) {
                r.heldText = String(r.heldText[..<hit.1.lowerBound])
                flush(r)
                finish(r, .stop)
                return
            }
            // Keep back the longest suffix that is a prefix of some stop string.
            var keep = 0
            for s in r.stop {
                for n in stride(from: min(s.count - 1, r.heldText.count), to: keep, by: -1)
                where r.heldText.hasSuffix(s.prefix(n)) {
                    keep = n
                    break
                }
            }
            if keep > 0 {
                let cut = r.heldText.index(r.heldText.endIndex, offsetBy: -keep)
                let out = String(r.heldText[..<cut])
                r.heldText = String(r.heldText[cut...])
                emit(r, out)
                return
            }
        }
        flush(r)
    }

    private func flush(_ r: Req) {
        let text = r.heldText
        r.heldText = ""
        emit(r, text)
    }

    private func emit(_ r: Req, _ text: String) {
        guard !text.isEmpty || !r.heldTokens.isEmpty else { return }
        var answer = text, thought = ""
        if r.reasoning != nil {
            (thought, answer) = r.reasoning!.feed(text)
            if r.finishReason != nil {
                let rest = r.reasoning!.flush()
                thought += rest.reasoning
                answer += rest.content
            }
        }
        r.continuation.yield(.delta(text: answer, reasoning: thought, tokens: r.heldTokens, logprobs: r.heldLogprobs))
        r.heldTokens.removeAll(keepingCapacity: true)
        r.heldLogprobs.removeAll(keepingCapacity: true)
    }

    func finish(_ r: Req, _ reason: FinishReason) {
        guard r.finishReason == nil else { return }
        r.finishReason = reason
        r.heldText += r.detokenizer.flush()
        // An empty delta still flushes text the reasoning parser held back.
        if r.heldText.isEmpty && r.heldTokens.isEmpty, var p = r.reasoning {
            let rest = p.flush()
            r.reasoning = p
            if !rest.reasoning.isEmpty || !rest.content.isEmpty {
                r.continuation.yield(.delta(text: rest.content, reasoning: rest.reasoning, tokens: [], logprobs: []))
            }
            return
        }
        flush(r)
    }

    /// Requests that are finished or cancelled leave the running set and give back their KV
    /// once no launched batch still reads their pages or their row.
    func retireDone() {
        guard running.contains(where: \.isDone) else { return }
        var keep: [Req] = []
        for r in running {
            guard r.isDone, !isInFlight(r) else {
                keep.append(r)
                continue
            }
            releaseKV(r)
            if r.cancelled && r.finishReason == nil {
                finishStream(r, error: CancellationError())
            } else {
                finishStream(r, error: nil)
            }
        }
        running = keep
    }

    func finishStream(_ r: Req, error: (any Error)?) {
        if let e = error {
            r.continuation.finish(throwing: e)
            return
        }
        let now = Recorder.now()
        let secs = { (t: UInt64?) in t.map { Double($0 &- r.submitted) / 1e9 } ?? 0 }
        let usage = Usage(promptTokens: r.prompt.count, cachedPromptTokens: r.cachedPromptTokens ?? 0, completionTokens: r.output.count)
        r.continuation.yield(.finished(reason: r.finishReason ?? .stop, usage: usage,
                                       timings: Timings(queued: secs(r.admitted), firstToken: secs(r.firstToken), total: secs(now))))
        r.continuation.finish()
        recorder.count(.host, .finishedRequests, 1)
        recorder.count(.host, .promptTokens, r.prompt.count)
    }
}
