/// At most `limit` holders at once (nil: no limit); waiters are let in first come, first served.
actor Limiter {
    private var free: Int?
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int?) { free = limit }

    func acquire() async {
        guard let f = free else { return }
        if f > 0 {
            free = f - 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        guard free != nil else { return }
        if waiters.isEmpty { free! += 1 } else { waiters.removeFirst().resume() }
    }
}
