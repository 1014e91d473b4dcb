import Foundation
import PlasticityEngine

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
        /// Parts made by separate jobs, then put together.
        private let parts: [() -> Result<Value, Error>]
        private let assemble: ([Value]) -> Value
        private let lock = NSLock()
        private var started: [Bool]
        private let done = DispatchGroup()
        private var results: [Result<Value, Error>?]

        init(key: Key, parts: [() -> Result<Value, Error>], assemble: @escaping ([Value]) -> Value) {
            self.key = key
            self.parts = parts
            self.assemble = assemble
            started = parts.map { _ in false }
            results = parts.map { _ in nil }
            for _ in parts { done.enter() }
        }

        /// Makes part `index` unless it has been started already (by whoever ran its job first).
        func run(_ index: Int) {
            guard lock.withLock({ () -> Bool in
                defer { started[index] = true }
                return !started[index]
            }) else { return }
            let result = parts[index]()
            lock.withLock { results[index] = result }
            done.leave()
        }

        /// Every part, made now if its job has not run, put together; the first part's error.
        func value() throws -> Value {
            for index in parts.indices { run(index) }
            done.wait()
            return assemble(try lock.withLock { results }.map { try $0!.get() })
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
    /// thread (and returns no jobs), or — `.besideWork` — returns the job for the caller to run
    /// beside its work.
    func prefetch(_ key: Key, make: @escaping (Key) throws -> Value) -> [() -> Void] {
        prefetch(key, parts: [{ try make(key) }]) { $0[0] }
    }

    /// The same for a value made in parts, each by a job of its own (beside the work, several
    /// workers can take them at once), and then put together by `assemble`.
    func prefetch(_ key: Key, parts: [() throws -> Value], assemble: @escaping ([Value]) -> Value) -> [() -> Void] {
        let slot = Slot(key: key, parts: parts.map { part in { Result { try part() } } }, assemble: assemble)
        ahead = slot
        let jobs = parts.indices.map { index in { slot.run(index) } }
        switch placement {
        case .backgroundThread:
            queue.async { jobs.forEach { $0() } }
            return []
        case .besideWork:
            return jobs
        }
    }
}

/// Where a `Prefetcher` makes the next value.
enum PrefetchPlacement {
    case backgroundThread, besideWork

    /// Beside the work when `threads` workers leave no core free.
    init(threads: Int) {
        self = threads >= ShardedComputation.availableThreads && threads > 1 ? .besideWork : .backgroundThread
    }
}
