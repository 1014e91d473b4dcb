import Foundation

/// Makes the next value (the next batch) while the caller works on the current one: reading
/// and binning a batch of SHD from its file took a sixth of an epoch on one thread when it was
/// done in line. Values are the same either way. Where it is made depends on the cores:
///
/// - `.backgroundThread`, when a core is left without a worker: a thread at background
///   priority, which takes that core.
/// - `.besideWork`, when every core has a worker: the caller runs the job among its own
///   parallel work (`ShardedComputation`'s `alongside`), so the next free worker makes it. A
///   third thread there, at equal priority, slowed each batch's slowest shard more than it
///   saved (e-prop at SHD's shape on 2 cores: 8.3 s per epoch against 6.5 s in line); at
///   background priority it ran only in the gaps, and the trainer then waited for it.
final class Prefetcher<Key: Equatable, Value>: @unchecked Sendable {
    private final class Slot: @unchecked Sendable {
        let key: Key
        private let make: () -> Result<Value, Error>
        private let lock = NSLock()
        private var started = false
        private let done = DispatchGroup()
        private var result: Result<Value, Error>?

        init(key: Key, make: @escaping () -> Result<Value, Error>) {
            self.key = key
            self.make = make
            done.enter()
        }

        /// Makes the value unless it has been started already (by whoever ran the job first).
        func run() {
            guard lock.withLock({ () -> Bool in
                defer { started = true }
                return !started
            }) else { return }
            result = make()
            done.leave()
        }

        func value() throws -> Value {
            run()
            done.wait()
            return try result!.get()
        }
    }

    let placement: PrefetchPlacement
    private let queue = DispatchQueue(label: "plasticity.prefetch", qos: .background)
    private var ahead: Slot?

    init(placement: PrefetchPlacement) {
        self.placement = placement
    }

    /// The value for `key`: the one made ahead if it was for this key (made now if its job
    /// has not run), otherwise made now.
    func value(for key: Key, make: (Key) throws -> Value) throws -> Value {
        if let slot = ahead, slot.key == key {
            ahead = nil
            return try slot.value()
        }
        return try make(key)
    }

    /// Waits for the value made ahead, if any (making it now if its job has not run), and
    /// throws its error: for values made for their effect (a checkpoint written).
    func settle() throws {
        guard let slot = ahead else { return }
        ahead = nil
        _ = try slot.value()
    }

    /// Starts making the value for `key` (replacing any other made ahead): on the background
    /// thread, or — `.besideWork` — returns the job for the caller to run beside its work.
    func prefetch(_ key: Key, make: @escaping (Key) throws -> Value) -> (() -> Void)? {
        let slot = Slot(key: key) { Result { try make(key) } }
        ahead = slot
        switch placement {
        case .backgroundThread:
            queue.async { slot.run() }
            return nil
        case .besideWork:
            return { slot.run() }
        }
    }
}

/// Where a `Prefetcher` makes the next value.
enum PrefetchPlacement {
    case backgroundThread, besideWork

    /// Beside the work when `threads` workers leave no core free.
    init(threads: Int) {
        self = threads >= ProcessInfo.processInfo.activeProcessorCount && threads > 1 ? .besideWork : .backgroundThread
    }
}
